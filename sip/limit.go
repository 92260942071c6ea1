package sip

import (
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"golang.org/x/time/rate"
)

// Rate is a token bucket: PerSecond requests a second on average, Burst at
// once. A zero PerSecond is no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Limits bound what one source address may send, per kind of request (what
// Kamailio's pike and ratelimit modules do for a carrier's edge). Past its
// rate a source is answered 503 with Retry-After; past DropAfter such
// refusals a second it is answered nothing, so that a flood with a forged
// source is not reflected at its victim. The zero value limits nothing.
type Limits struct {
	Invite, Register, Options, Other Rate
	// DropAfter is how many refusals a second a source gets before the
	// rest is dropped; 0 drops from the first request over the rate.
	DropAfter int
}

func (l Limits) enabled() bool {
	return l.Invite.PerSecond > 0 || l.Register.PerSecond > 0 || l.Options.PerSecond > 0 || l.Other.PerSecond > 0
}

// The kinds of request limited apart, the values of the limited metric's
// method label.
const (
	limitInvite = iota
	limitRegister
	limitOptions
	limitOther
	limitKinds
)

var limitKindNames = [limitKinds]string{"invite", "register", "options", "other"}

func limitKind(req *sip.Request) int {
	switch req.Method {
	case sip.INVITE:
		return limitInvite
	case sip.REGISTER:
		return limitRegister
	case sip.OPTIONS:
		return limitOptions
	}
	return limitOther
}

// What the limiter says of a request.
type limitVerdict int

const (
	limitPass limitVerdict = iota
	limitRefuse
	limitDrop
)

// maxLimitedSources bounds the limiter's memory under a flood from forged
// addresses; sources past it share one set of buckets.
const maxLimitedSources = 1 << 16

// limiter keeps the buckets of each source seen lately.
type limiter struct {
	limits Limits
	now    func() time.Time

	mu       sync.Mutex
	sources  map[netip.Addr]*sourceBuckets
	overflow *sourceBuckets
	swept    time.Time
}

type sourceBuckets struct {
	kinds    [limitKinds]*rate.Limiter // nil: that kind is not limited
	refusals *rate.Limiter
	seen     time.Time
}

func newLimiter(l Limits, now func() time.Time) *limiter {
	lim := &limiter{limits: l, now: now, sources: map[netip.Addr]*sourceBuckets{}}
	lim.overflow = lim.buckets()
	return lim
}

func (l *limiter) buckets() *sourceBuckets {
	b := &sourceBuckets{refusals: rate.NewLimiter(rate.Limit(l.limits.DropAfter), max(l.limits.DropAfter, 1))}
	if l.limits.DropAfter == 0 {
		b.refusals = rate.NewLimiter(0, 0)
	}
	for k, r := range [limitKinds]Rate{l.limits.Invite, l.limits.Register, l.limits.Options, l.limits.Other} {
		if r.PerSecond > 0 {
			b.kinds[k] = rate.NewLimiter(rate.Limit(r.PerSecond), max(r.Burst, 1))
		}
	}
	return b
}

// check takes one request of kind from src.
func (l *limiter) check(src netip.Addr, kind int) limitVerdict {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.sources[src]
	if b == nil {
		if len(l.sources) >= maxLimitedSources {
			l.sweep(now)
		}
		b = l.overflow
		if len(l.sources) < maxLimitedSources {
			b = l.buckets()
			l.sources[src] = b
		}
	}
	b.seen = now
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	if k := b.kinds[kind]; k == nil || k.AllowN(now, 1) {
		return limitPass
	}
	if b.refusals.AllowN(now, 1) {
		return limitRefuse
	}
	return limitDrop
}

// sweep forgets sources quiet for a minute: their buckets have refilled,
// so forgetting them changes nothing but the memory they hold.
func (l *limiter) sweep(now time.Time) {
	l.swept = now
	for a, b := range l.sources {
		if now.Sub(b.seen) > time.Minute {
			delete(l.sources, a)
		}
	}
}
