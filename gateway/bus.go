package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"

	"switchboard/config"
	"switchboard/events"
)

// newInstanceName names this process in events: host, pid and a random
// suffix, so a restarted process is a new instance.
func newInstanceName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// openBus is the conversation bus that goes with the store: LISTEN/NOTIFY
// on PostgreSQL, so that instances on one database hear each other, and
// in-process on SQLite, which one process owns.
func openBus(ctx context.Context, cfg *config.Config, instance string, g *Gateway) (events.Bus, error) {
	if cfg.Store.Driver != "postgres" {
		return events.NewInProcess(instance), nil
	}
	b, err := events.NewPostgres(ctx, os.Getenv(cfg.Store.Postgres.DSNEnv), instance, g.log.With("component", "bus"))
	if err != nil {
		return nil, fmt.Errorf("event bus: %w", err)
	}
	return b, nil
}

// runBackground starts the gateway's own loops (presence, delivery); the
// channel it returns closes once they all stopped after ctx ended.
func (g *Gateway) runBackground(ctx context.Context) <-chan struct{} {
	var wg sync.WaitGroup
	wg.Go(func() { g.presence.Run(ctx) })
	wg.Go(func() { g.reapCalls(ctx) })
	wg.Go(func() {
		if err := g.outbox.Run(ctx); err != nil {
			g.log.Error("outbox delivery stopped", "error", err)
		}
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// agentsOnline says whether any agent is at the desk, on any instance.
func (g *Gateway) agentsOnline() bool { return g.presence == nil || g.presence.AnyOnline() }
