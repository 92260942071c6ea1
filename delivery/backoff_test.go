package delivery

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"switchboard/config"
	"switchboard/store"
)

// TestDecide is the retry policy: what an attempt's outcome makes of an
// item, with the jitter at either end of its range.
func TestDecide(t *testing.T) {
	cfg := config.Delivery{MinBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxAge: time.Hour}
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	young := store.OutboxItem{Destination: "sms:+1555", CreatedAt: now.Add(-time.Minute)}
	after := func(attempts int) store.OutboxItem { it := young; it.Attempts = attempts; return it }
	old := young
	old.CreatedAt = now.Add(-time.Hour)
	nearlyOld := young
	nearlyOld.CreatedAt, nearlyOld.Attempts = now.Add(-time.Hour+1500*time.Millisecond), 5
	fail := errors.New("503 service unavailable")
	wait := func(d time.Duration) error { return &RetryAfter{After: d, Err: errors.New("429")} }

	for _, tc := range []struct {
		name     string
		it       store.OutboxItem
		err      error
		lo, hi   time.Duration // the next attempt, after now, with the least and the most jitter
		giveUp   string        // the reason, when given up
		delivery bool
	}{
		{name: "delivered", it: young, delivery: true},
		{name: "first failure", it: after(0), err: fail, lo: 500 * time.Millisecond, hi: time.Second},
		{name: "second failure doubles", it: after(1), err: fail, lo: time.Second, hi: 2 * time.Second},
		{name: "third failure doubles", it: after(2), err: fail, lo: 2 * time.Second, hi: 4 * time.Second},
		{name: "capped at max_backoff", it: after(30), err: fail, lo: 2 * time.Second, hi: 4 * time.Second},
		{name: "last attempt at max_age", it: nearlyOld, err: fail, lo: 1500 * time.Millisecond, hi: 1500 * time.Millisecond},
		{name: "max_age reached", it: old, err: fail, giveUp: "still failing after 1h0m0s: 503 service unavailable"},
		{name: "permanent", it: young, err: Permanent(errors.New("400 invalid number")), giveUp: "refused by sms: 400 invalid number"},
		{name: "permanent, wrapped", it: young, err: fmt.Errorf("twilio: %w", Permanent(errors.New("400"))), giveUp: "refused by sms: twilio: 400"},
		{name: "retry after", it: after(3), err: wait(7 * time.Second), lo: 7 * time.Second, hi: 7 * time.Second},
		{name: "retry after, wrapped", it: young, err: fmt.Errorf("twilio: %w", wait(time.Minute)), lo: time.Minute, hi: time.Minute},
		{name: "retry after of zero backs off", it: young, err: wait(0), lo: 500 * time.Millisecond, hi: time.Second},
		{name: "retry after past max_age", it: nearlyOld, err: wait(time.Minute),
			giveUp: "sms asked to wait 1m0s, past the 1h0m0s limit: retry after 1m0s: 429"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, j := range []struct {
				name   string
				jitter func(int64) int64
				want   time.Duration
			}{{"least jitter", func(int64) int64 { return 0 }, tc.lo}, {"most jitter", func(n int64) int64 { return n - 1 }, tc.hi}} {
				v := decide(cfg, tc.it, tc.err, now, j.jitter)
				switch {
				case tc.delivery:
					if v.retry() || v.givenUp() {
						t.Errorf("%s: %+v, want delivered", j.name, v)
					}
				case tc.giveUp != "":
					if v.reason != tc.giveUp || v.retry() {
						t.Errorf("%s: %+v, want given up: %q", j.name, v, tc.giveUp)
					}
				case v.givenUp() || !v.next.Equal(now.Add(j.want)):
					t.Errorf("%s: %+v, want the next attempt %s from now", j.name, v, j.want)
				}
			}
		})
	}
}

func TestKind(t *testing.T) {
	for dest, want := range map[string]string{"sms:+15551234": "sms", "web": "web", "email:a@b.c:x": "email", "": "", ":x": ""} {
		if got := Kind(dest); got != want {
			t.Errorf("Kind(%q) = %q, want %q", dest, got, want)
		}
	}
}

func TestShortCutsOnRuneBoundary(t *testing.T) {
	long := errors.New(strings.Repeat("é", 300)) // 600 bytes
	got := short(long, reasonBytes)
	if len(got) > reasonBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("short = %q (%d bytes), want at most %d valid bytes ending in …", got, len(got), reasonBytes)
	}
	if got := short(errors.New("brief"), reasonBytes); got != "brief" {
		t.Errorf("short(brief) = %q", got)
	}
}
