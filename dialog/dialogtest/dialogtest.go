// Package dialogtest builds, for tests, the core a channel plugs into: a
// real SQLite store, the shipped config's handoff policy and PII masking,
// and the shipped knowledge base behind a dialog.Conductor.
package dialogtest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/events"
	"switchboard/handoff"
	"switchboard/store/sqlite"
)

// Core is a conductor on its own store.
type Core struct {
	Store   *sqlite.Store
	Turns   *dialog.Conductor
	Config  *config.Config // the shipped config, with the level asked for
	Metrics *dialog.Metrics
	KB      *dialog.Knowledge
	Bus     *events.InProcess // the conductor publishes here
}

var (
	shippedOnce sync.Once
	shipped     *config.Config
	shippedErr  error
	policies    sync.Map // level -> *handoff.Policy: building one trains classifiers
)

// Shipped is configs/switchboard.yaml, loaded once.
func Shipped(t testing.TB) *config.Config {
	t.Helper()
	shippedOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		shipped, shippedErr = config.Load(filepath.Join(filepath.Dir(file), "..", "..", "configs", "switchboard.yaml"))
	})
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shipped
}

// New builds a Core at the given handoff level; now is the conductor's
// clock (nil: time.Now).
func New(t testing.TB, level string, now func() time.Time) *Core {
	t.Helper()
	return NewWith(t, level, now, nil)
}

// NewWith is New with another responder: responder gets the knowledge base,
// the config and the embedded responder (to wrap as a fallback). nil keeps
// the embedded one.
func NewWith(t testing.TB, level string, now func() time.Time,
	responder func(kb *dialog.Knowledge, cfg *config.Config, embedded dialog.Responder) dialog.Responder) *Core {
	t.Helper()
	cfg := *Shipped(t)
	cfg.Handoff.Level = level
	policy, err := policyAt(cfg.Handoff)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := dialog.LoadKnowledge(cfg.ResolvePath(cfg.Responder.Embedded.Knowledge))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if now == nil {
		now = time.Now
	}
	var r dialog.Responder = dialog.NewEmbedded(kb, dialog.EmbeddedOptions{})
	if responder != nil {
		r = responder(kb, &cfg, r)
	}
	masker, err := handoff.NewMasker(cfg.Handoff.PII)
	if err != nil {
		t.Fatal(err)
	}
	live := dialog.Live{Policy: policy, Responder: r, Handoff: cfg.Handoff, Masker: masker}
	m := dialog.NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := events.NewInProcess("test")
	t.Cleanup(func() { bus.Close() })
	turns := dialog.NewConductor(st, func() dialog.Live { return live }, m, now, log, dialog.WithBus(bus))
	return &Core{Store: st, Turns: turns, Config: &cfg, Metrics: m, KB: kb, Bus: bus}
}

func policyAt(h config.Handoff) (*handoff.Policy, error) {
	if p, ok := policies.Load(h.Level); ok {
		return p.(*handoff.Policy), nil
	}
	p, err := handoff.New(h)
	if err != nil {
		return nil, err
	}
	policies.Store(h.Level, p)
	return p, nil
}
