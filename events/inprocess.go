package events

import (
	"context"
	"errors"
)

// InProcess is the bus of one instance: events go straight to its
// subscribers.
type InProcess struct {
	f        *fanout
	instance string
}

var _ Bus = (*InProcess)(nil)

// ErrClosed is returned by Publish on a closed bus.
var ErrClosed = errors.New("events: bus is closed")

// NewInProcess returns an empty in-process bus; instance names it in the
// events it publishes.
func NewInProcess(instance string) *InProcess {
	return &InProcess{f: newFanout(), instance: instance}
}

// Publish delivers e to the matching subscribers.
func (b *InProcess) Publish(_ context.Context, e Event) error {
	b.f.mu.RLock()
	closed := b.f.closed
	b.f.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	e.Instance = b.instance
	b.f.deliver(e)
	return nil
}

// Subscribe opens a subscription.
func (b *InProcess) Subscribe(f Filter) *Subscription { return b.f.subscribe(f) }

// Subscribers is how many subscriptions are open.
func (b *InProcess) Subscribers() int { return b.f.count() }

// Close ends every subscription.
func (b *InProcess) Close() error {
	b.f.close()
	return nil
}
