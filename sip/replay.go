package sip

import (
	"sync"
	"time"
)

// maxTrackedNonces bounds the replay guard's memory. Only requests whose
// digest response was right are tracked, so only a trunk's own devices can
// fill it; when it is full of live nonces, a new one is challenged afresh
// until old ones age out.
const maxTrackedNonces = 1 << 16

// replayGuard remembers, per nonce we issued, the highest nonce count a
// right answer used (RFC 7616 §3.4: a server keeps nc per nonce to detect
// replays). A captured Authorization header is otherwise good for any
// request to the same URI until the nonce expires.
type replayGuard struct {
	mu     sync.Mutex
	counts map[string]nonceUse
}

type nonceUse struct {
	nc      int
	expires time.Time
}

func newReplayGuard() *replayGuard { return &replayGuard{counts: map[string]nonceUse{}} }

// fresh records a use of nonce with count nc (0 when the client sent no
// qop, which makes the nonce good for one request) and reports whether it
// is new: a count above every earlier one. expires is when the nonce
// outlives its lifetime; entries past it are dropped.
func (g *replayGuard) fresh(nonce string, nc int, now, expires time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if u, seen := g.counts[nonce]; seen {
		if nc == 0 || nc <= u.nc {
			return false
		}
		g.counts[nonce] = nonceUse{nc: nc, expires: u.expires}
		return true
	}
	if len(g.counts) >= maxTrackedNonces {
		for k, u := range g.counts {
			if now.After(u.expires) {
				delete(g.counts, k)
			}
		}
		if len(g.counts) >= maxTrackedNonces {
			return false
		}
	}
	g.counts[nonce] = nonceUse{nc: nc, expires: expires}
	return true
}
