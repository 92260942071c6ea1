package delivery

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"switchboard/config"
	"switchboard/store"
)

// verdict is what becomes of an item after an attempt: delivered (the zero
// verdict), tried again at next, or given up for reason.
type verdict struct {
	next   time.Time
	reason string
}

func (v verdict) givenUp() bool { return v.reason != "" }
func (v verdict) retry() bool   { return !v.next.IsZero() }

// decide turns the outcome of an attempt on it at now into a verdict. An
// item is tried until it is max_age old: the backoff is cut short so that
// the last attempt falls at max_age, and a failure from then on gives it up.
// A permanent error gives it up at once, and so does a RetryAfter that
// reaches past max_age, since no attempt may be made before it.
func decide(cfg config.Delivery, it store.OutboxItem, err error, now time.Time, jitter func(int64) int64) verdict {
	if err == nil {
		return verdict{}
	}
	deadline := it.CreatedAt.Add(cfg.MaxAge)
	var ra *RetryAfter
	switch {
	case IsPermanent(err):
		return verdict{reason: fmt.Sprintf("refused by %s: %s", Kind(it.Destination), short(err, reasonBytes))}
	case !now.Before(deadline):
		return verdict{reason: fmt.Sprintf("still failing after %s: %s", cfg.MaxAge, short(err, reasonBytes))}
	case errors.As(err, &ra) && ra.After > 0:
		if next := now.Add(ra.After); !next.After(deadline) {
			return verdict{next: next}
		}
		return verdict{reason: fmt.Sprintf("%s asked to wait %s, past the %s limit: %s",
			Kind(it.Destination), ra.After, cfg.MaxAge, short(err, reasonBytes))}
	}
	next := now.Add(backoff(cfg, it.Attempts+1, jitter))
	if next.After(deadline) {
		next = deadline
	}
	return verdict{next: next}
}

// backoff is the wait after the given number of failed attempts (1 or
// more): min_backoff doubled for each attempt after the first, at most
// max_backoff, with equal jitter: the upper half of it is drawn at random.
// Items that failed together (a service outage) spread out, and each wait
// is still at least as long as the one before.
func backoff(cfg config.Delivery, attempts int, jitter func(int64) int64) time.Duration {
	d := cfg.MinBackoff
	for i := 1; i < attempts && d < cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, cfg.MaxBackoff)
	half := d / 2
	return d - half + time.Duration(jitter(int64(half)+1))
}

// Bounds on the error text kept: the stored LastError, and the reason shown
// in the conversation.
const (
	errorBytes  = 1000
	reasonBytes = 200
)

// short is err's text cut to at most n bytes, on a rune boundary.
func short(err error, n int) string {
	s := err.Error()
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
