package webchat

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"switchboard/config"
)

// maxLimiters bounds each limiter table; past it the idlest entries go, so
// a flood of addresses cannot grow memory without end.
const maxLimiters = 100_000

// limits keeps token buckets per client address and per conversation.
type limits struct {
	now   func() time.Time
	mu    sync.Mutex
	ip    map[string]*limiterEntry
	convs map[string]*limiterEntry
}

type limiterEntry struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimits(now func() time.Time) *limits {
	return &limits{now: now, ip: map[string]*limiterEntry{}, convs: map[string]*limiterEntry{}}
}

// allowIP takes a token for the request's client address.
func (l *limits) allowIP(r *http.Request, c config.Rate) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return l.allow(l.ip, host, c)
}

// allowConversation takes a token for conversation id.
func (l *limits) allowConversation(id string, c config.Rate) bool {
	return l.allow(l.convs, id, c)
}

func (l *limits) allow(table map[string]*limiterEntry, key string, c config.Rate) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := table[key]
	if !ok || e.l.Limit() != rate.Limit(c.PerSecond) || e.l.Burst() != c.Burst {
		if len(table) >= maxLimiters {
			evictIdle(table, now)
		}
		e = &limiterEntry{l: rate.NewLimiter(rate.Limit(c.PerSecond), c.Burst)}
		table[key] = e
	}
	e.seen = now
	return e.l.AllowN(now, 1)
}

// evictIdle drops entries unused for a minute (a full bucket again), or
// half the table when all are busy.
func evictIdle(table map[string]*limiterEntry, now time.Time) {
	for k, e := range table {
		if now.Sub(e.seen) > time.Minute {
			delete(table, k)
		}
	}
	for k := range table {
		if len(table) < maxLimiters/2 {
			break
		}
		delete(table, k)
	}
}
