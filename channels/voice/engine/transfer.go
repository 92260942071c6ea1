package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard/media"
	"switchboard/store"
)

// pendingHandoff is a handoff the worker's turn decided, for the loop to
// carry out.
type pendingHandoff struct {
	h       store.Handoff
	decided time.Time
}

// bridged is how a transfer ended: with a leg that answered, handed to the
// call's loop, which owns the caller's media and so is the one to bridge
// it; or with none (referred away, or failed and the AI took the call
// back).
type bridged struct {
	leg    Leg
	target string
}

// handOff asks the loop to transfer the call (the worker calls it). The
// transfer starts at once, while the turn speaks the handoff notice.
func (cl *call) handOff(ctx context.Context, h store.Handoff, decided time.Time) {
	select {
	case cl.handoffs <- pendingHandoff{h: h, decided: decided}:
	case <-ctx.Done():
	}
}

// startTransfer runs p's transfer on a goroutine of the call's (the loop
// calls it): it lives as long as the call, not the worker, since bridging
// stops the worker but not the transfer that asked for it. Its outcome
// comes back to the loop; once the call is over nobody will bridge a leg,
// so it hangs the leg up itself, and Run waits for it.
func (cl *call) startTransfer(ctx context.Context, p pendingHandoff) {
	if cl.transferring {
		cl.log.Info("a transfer is under way; not starting another", "handoff", p.h.ID)
		return
	}
	cl.transferring = true
	cl.transfers.Add(1)
	go func() {
		defer cl.transfers.Done()
		b := cl.transfer(ctx, p.h, p.decided)
		select {
		case cl.outcomes <- b:
		case <-ctx.Done():
			if b.leg != nil {
				hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = b.leg.Hangup(hctx)
			}
		}
	}()
}

// transfer carries out handoff h by the target's method: REFER, bridge, or
// REFER and then bridge when the caller's side refuses. It goes only to the
// configured target the handoff names, never to an address that came from
// the caller. Whatever fails, the call stays up and the AI takes it back.
func (cl *call) transfer(ctx context.Context, h store.Handoff, decided time.Time) bridged {
	target, ok := cl.cfg.Handoff.Targets[h.Target]
	if !ok || target.Kind != "sip" {
		cl.failed(ctx, h, "the handoff target "+h.Target+" cannot take phone calls")
		return bridged{}
	}
	t := Transfer{Handoff: h, Target: target, Decided: decided}
	if target.Method == "refer" || target.Method == "refer_then_bridge" {
		err := cl.refer(ctx, t)
		if err == nil || ctx.Err() != nil {
			return bridged{}
		}
		if errors.Is(err, errors.ErrUnsupported) {
			// A line with no REFER (a browser's) goes straight to the
			// bridge, which is what refer_then_bridge means for it.
			if target.Method == "refer" {
				cl.failed(ctx, h, "this line cannot be transferred by REFER")
				return bridged{}
			}
			return cl.dial(ctx, t)
		}
		cl.log.Info("REFER did not transfer the call", "error", err)
		cl.note(ctx, fmt.Sprintf("REFER to %s failed: %v.", h.Target, err))
		if target.Method == "refer" {
			cl.failed(ctx, h, "the transfer was refused")
			return bridged{}
		}
		t.Decided = time.Now()
	}
	return cl.dial(ctx, t)
}

func (cl *call) refer(ctx context.Context, t Transfer) error {
	if err := cl.line.Refer(ctx, t); err != nil {
		if !errors.Is(err, errors.ErrUnsupported) {
			cl.e.opts.Metrics.transfers.WithLabelValues("refer", "failed").Inc()
		}
		return err
	}
	cl.e.opts.Metrics.transfers.WithLabelValues("refer", "ok").Inc()
	cl.note(ctx, fmt.Sprintf("Transferred to %s (%s) by REFER.", t.Handoff.Target, t.Target.URI))
	// The transferee usually ends our leg itself; if not, we do.
	_ = cl.hangup(ctx)
	return nil
}

// dial rings the target as a second leg; when it answers, the call's loop
// bridges the two. No answer, busy or an error: the AI comes back.
func (cl *call) dial(ctx context.Context, t Transfer) bridged {
	leg, err := cl.line.Dial(ctx, t)
	if err != nil {
		if ctx.Err() != nil {
			cl.e.opts.Metrics.transfers.WithLabelValues("bridge", "caller_left").Inc()
			return bridged{} // the caller hung up while it rang; the line gave up on it
		}
		cl.e.opts.Metrics.transfers.WithLabelValues("bridge", "failed").Inc()
		cl.failed(ctx, t.Handoff, failure(err))
		return bridged{}
	}
	cl.e.opts.Metrics.transfers.WithLabelValues("bridge", "ok").Inc()
	return bridged{leg: leg, target: t.Handoff.Target}
}

// failure is why a transfer step failed, in the transcript's words.
func failure(err error) string {
	var fe *FailedError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// bridge relays media between the caller and the leg until either hangs
// up, then hangs up the other. The AI has left the call.
func (cl *call) bridge(ctx context.Context, b bridged) error {
	cl.stopWorker()
	cl.line.StopPlayback()
	cl.note(ctx, "Bridged to "+b.target+"; the AI has left the call.")
	err := media.Bridge(ctx, cl.line, b.leg, cl.log)
	cl.log.Info("bridge ended", "cause", err)
	// Whichever side ended, both are hung up: hanging up an ended side
	// does nothing, and one whose media stopped must hear a BYE.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = b.leg.Hangup(hctx)
	_ = cl.hangup(hctx)
	var ended *media.EndedError
	if err != nil && ctx.Err() == nil && !errors.As(err, &ended) {
		return fmt.Errorf("bridge: %w", err) // a side ending, or the call, is how a bridge ends
	}
	return nil
}

// failed gives the call back to the AI, records a callback and tells the
// caller.
func (cl *call) failed(ctx context.Context, h store.Handoff, why string) {
	msg, err := cl.e.opts.Turns.TransferFailed(ctx, h, why)
	if err != nil {
		cl.log.Error("transfer failed and the callback was not recorded", "error", err)
		return
	}
	cl.enqueue(job{say: msg.Text})
}
