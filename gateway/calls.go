package gateway

import (
	"context"
	"errors"
	"time"

	"switchboard/store"
)

// Live calls: this instance keeps its calls' records fresh, and any
// instance closes the calls of one that died (SIGKILL, a lost machine), so
// that their conversations do not look live for ever.
const (
	callHeartbeat = 30 * time.Second
	// callStaleAfter: a live instance has touched its calls twice by then.
	callStaleAfter = 3 * callHeartbeat
	staleBatch     = 100
)

func (g *Gateway) reapCalls(ctx context.Context) {
	if g.sip == nil {
		return
	}
	if g.Config().Store.Driver == "sqlite" {
		// One process owns a SQLite file: whatever this one finds at start
		// was left by the one before it.
		g.closeStaleCalls(ctx, g.started)
	}
	t := time.NewTicker(callHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := g.now()
		if err := g.store.TouchCalls(ctx, g.instance, now); err != nil {
			g.log.Warn("live calls: heartbeat failed", "error", err)
		}
		g.closeStaleCalls(ctx, now.Add(-callStaleAfter))
	}
}

// closeStaleCalls takes the calls last seen before before and closes their
// conversations.
func (g *Gateway) closeStaleCalls(ctx context.Context, before time.Time) {
	for {
		calls, err := g.store.TakeStaleCalls(ctx, before, staleBatch)
		if err != nil {
			if ctx.Err() == nil {
				g.log.Warn("live calls: could not take stale calls", "error", err)
			}
			return
		}
		for _, c := range calls {
			g.closeAbandoned(ctx, c)
		}
		if len(calls) < staleBatch {
			return
		}
	}
}

func (g *Gateway) closeAbandoned(ctx context.Context, c store.LiveCall) {
	conv, err := g.store.ConversationByThread(ctx, c.Channel, c.CallID)
	if errors.Is(err, store.ErrNotFound) {
		g.log.Info("a call whose instance stopped had no conversation yet", "call_id", c.CallID, "instance", c.Instance)
		return
	}
	if err == nil {
		err = g.turns.CallAbandoned(ctx, conv.ID, g.now())
	}
	if err != nil {
		g.log.Error("live calls: an abandoned call was not closed", "call_id", c.CallID, "error", err)
		return
	}
	g.log.Warn("closed a call whose instance stopped unexpectedly", "call_id", c.CallID, "conversation_id", conv.ID,
		"instance", c.Instance, "started_at", c.StartedAt, "last_seen", c.SeenAt)
}
