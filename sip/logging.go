package sip

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// limitedLog logs at most a few records a second; the ones it drops are
// counted and reported on the next record that gets through, so a flood of
// scanners or garbage cannot fill the disk or hide other logs.
type limitedLog struct {
	log        *slog.Logger
	lim        *rate.Limiter
	suppressed atomic.Int64
}

func newLimitedLog(log *slog.Logger, perSecond float64, burst int) *limitedLog {
	return &limitedLog{log: log, lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

func (l *limitedLog) Log(level slog.Level, msg string, args ...any) {
	if !l.lim.Allow() {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Log(context.Background(), level, msg, args...)
}

// sipgoHandler is the slog.Handler given to sipgo. sipgo logs a whole
// unparsable datagram at error level under "data"; that is a message body
// (possibly personal data) and an amplifier for floods. The handler drops
// "data" attributes, lowers sipgo's errors to warnings (they are the peer's
// faults, not ours), rate-limits everything above debug, and reports parse
// failures so they are counted.
type sipgoHandler struct {
	next    slog.Handler
	lim     *rate.Limiter
	onParse func() // called for each "failed to parse" record
}

func newSipgoLogger(next slog.Handler, onParse func()) *slog.Logger {
	return slog.New(&sipgoHandler{next: next, lim: rate.NewLimiter(rate.Every(100*time.Millisecond), 20), onParse: onParse})
}

func (h *sipgoHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, min(l, slog.LevelWarn))
}

func (h *sipgoHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "failed to parse" && h.onParse != nil {
		h.onParse()
	}
	if r.Level > slog.LevelDebug && !h.lim.Allow() {
		return nil
	}
	out := slog.NewRecord(r.Time, min(r.Level, slog.LevelWarn), "sipgo: "+r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "data" {
			out.AddAttrs(a)
		}
		return true
	})
	if !h.next.Enabled(ctx, out.Level) {
		return nil
	}
	return h.next.Handle(ctx, out)
}

func (h *sipgoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if a.Key != "data" {
			kept = append(kept, a)
		}
	}
	return &sipgoHandler{next: h.next.WithAttrs(kept), lim: h.lim, onParse: h.onParse}
}

func (h *sipgoHandler) WithGroup(name string) slog.Handler {
	return &sipgoHandler{next: h.next.WithGroup(name), lim: h.lim, onParse: h.onParse}
}
