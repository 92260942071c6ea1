package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard/events"
	"switchboard/store"
)

// errNoSender is the failure of an item whose kind has no sender (yet).
var errNoSender = errors.New("no sender registered")

// deliver makes one attempt on a leased item and records the outcome (a
// delivered item through sent). It returns how long that took, 0 when it
// did not send.
func (w *Worker) deliver(ctx context.Context, it store.OutboxItem, sent chan<- sentItem) time.Duration {
	kind := Kind(it.Destination)
	left := it.NextAttemptAt.Sub(w.now()) // Due set NextAttemptAt to the lease's end
	if left < w.cfg.Lease/2 {
		w.log.Warn("delivery: item waited for a sender through half its lease; left for a later lease",
			"outbox_id", it.ID, "channel", kind, "lease_left", left)
		return 0
	}
	start := time.Now()
	err := w.send(ctx, kind, it, left-w.recording())
	if err != nil && ctx.Err() != nil {
		// Shutdown cut the send short; the service did not refuse it. The
		// lease runs out and the item is tried again, here or elsewhere.
		w.log.Debug("delivery: send stopped by shutdown", "outbox_id", it.ID, "channel", kind, "error", err)
		return 0
	}
	v := decide(w.cfg, it, err, w.now(), w.jitter)
	switch {
	case v.retry():
		w.retry(ctx, it, kind, err, v)
	case v.givenUp():
		w.giveUp(ctx, it, kind, err, v.reason)
	default:
		sent <- sentItem{it: it, kind: kind}
	}
	return max(time.Since(start), 1)
}

// recording is the last part of a lease, kept for recording the outcome of
// the send.
func (w *Worker) recording() time.Duration { return w.cfg.Lease / 4 }

// send calls the kind's sender, which has until timeout to return.
func (w *Worker) send(ctx context.Context, kind string, it store.OutboxItem, timeout time.Duration) error {
	s := w.sender(kind)
	if s == nil {
		return fmt.Errorf("%w for channel %q", errNoSender, kind)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.Send(ctx, it)
}

// sentItem is an item its service took, to be marked delivered.
type sentItem struct {
	it   store.OutboxItem
	kind string
}

// record marks the items that come through sent delivered, until sent is
// closed. It writes all the items waiting in one statement: while a write
// runs, the items sent meanwhile queue up for the next, so a busy outbox
// pays one write for many items and a quiet one waits for nothing. A write
// takes far less than the quarter lease kept for it.
func (w *Worker) record(ctx context.Context, sent <-chan sentItem) {
	batch := make([]sentItem, 0, cap(sent))
	for s := range sent {
		batch = append(batch[:0], s)
	waiting:
		for len(batch) < cap(batch) {
			select {
			case s, ok := <-sent:
				if !ok {
					break waiting
				}
				batch = append(batch, s)
			default:
				break waiting
			}
		}
		w.delivered(ctx, batch)
	}
}

// delivered marks a batch of sent items delivered and publishes each. It
// runs even when ctx ended: an item sent but not marked would be sent again.
func (w *Worker) delivered(ctx context.Context, batch []sentItem) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.recording())
	defer cancel()
	ids := make([]int64, len(batch))
	for i, s := range batch {
		ids[i] = s.it.ID
	}
	if err := w.st.DeliveredAll(ctx, ids, w.now()); err != nil {
		// Sent, but not recorded: once the lease runs out they are sent
		// again, and the idempotency key is all that keeps the service from
		// showing them twice.
		w.log.Error("delivery: record delivered", "outbox_ids", ids, "error", err)
		return
	}
	for _, s := range batch {
		w.m.deliveries.WithLabelValues(s.kind, resultDelivered).Inc()
		w.log.Debug("delivery: delivered", "outbox_id", s.it.ID, "conversation_id", s.it.ConversationID,
			"channel", s.kind, "attempts", s.it.Attempts+1)
		w.publish(ctx, events.Event{Kind: events.Delivery, ConversationID: s.it.ConversationID, OutboxID: s.it.ID})
	}
}

// retry records a failed attempt and when to try again. Like every record
// of an outcome, it is written even when ctx ended meanwhile.
func (w *Worker) retry(ctx context.Context, it store.OutboxItem, kind string, sendErr error, v verdict) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.recording())
	defer cancel()
	if err := w.st.Failed(ctx, it.ID, short(sendErr, errorBytes), v.next); err != nil {
		// The lease runs out and the item is tried again then.
		w.log.Error("delivery: record failed attempt", "outbox_id", it.ID, "channel", kind, "error", err)
		return
	}
	w.m.deliveries.WithLabelValues(kind, resultRetry).Inc()
	w.log.Info("delivery: attempt failed, trying again later", "outbox_id", it.ID, "conversation_id", it.ConversationID,
		"channel", kind, "attempts", it.Attempts+1, "next_attempt_at", v.next, "error", sendErr)
}

// giveUp ends the item's delivery and tells its conversation.
func (w *Worker) giveUp(ctx context.Context, it store.OutboxItem, kind string, sendErr error, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.recording())
	defer cancel()
	err := w.st.GiveUp(ctx, it.ID, short(sendErr, errorBytes), w.now())
	if errors.Is(err, store.ErrWrongState) {
		// Another worker delivered it after all: nothing to tell.
		w.log.Info("delivery: not given up, delivered meanwhile", "outbox_id", it.ID, "channel", kind)
		return
	}
	if err != nil {
		w.log.Error("delivery: record giving up", "outbox_id", it.ID, "channel", kind, "error", err)
		return
	}
	w.m.deliveries.WithLabelValues(kind, resultGivenUp).Inc()
	w.log.Warn("delivery: given up", "outbox_id", it.ID, "conversation_id", it.ConversationID, "channel", kind,
		"attempts", it.Attempts+1, "reason", reason)
	w.publish(ctx, events.Event{Kind: events.Delivery, ConversationID: it.ConversationID, OutboxID: it.ID})
	if it.ConversationID != "" {
		w.tell(ctx, it, reason)
	}
}

// tell appends the "Not delivered" system message to the item's
// conversation and publishes it. Its idempotency key keeps it to one
// message per item.
func (w *Worker) tell(ctx context.Context, it store.OutboxItem, reason string) {
	m, _, err := w.st.AppendMessage(ctx, store.Message{
		ConversationID: it.ConversationID,
		Role:           store.RoleSystem,
		Text:           "Not delivered: " + reason,
		IdempotencyKey: fmt.Sprintf("outbox-%d-not-delivered", it.ID),
	})
	if err != nil {
		w.log.Error("delivery: record not delivered in the conversation", "outbox_id", it.ID,
			"conversation_id", it.ConversationID, "error", err)
		return
	}
	c, err := w.st.Conversation(ctx, it.ConversationID)
	if err != nil {
		w.log.Error("delivery: read conversation", "conversation_id", it.ConversationID, "error", err)
		return
	}
	w.publish(ctx, events.Event{Kind: events.Message, ConversationID: it.ConversationID, MessageID: m.ID, State: c.State})
}
