package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/store"
)

// Sender sends outbox items to one kind of destination (a channel's
// service: SMS, email, Slack). Send returns nil once the service took the
// item; the item's IdempotencyKey goes to the service where it supports
// one, so a repeated send after a crash is not shown twice.
//
// ctx ends well before the worker's lease on the item runs out (between a
// quarter and three quarters of config delivery.lease from the call; see
// the package comment); Send must return by then.
type Sender interface {
	Send(ctx context.Context, it store.OutboxItem) error
}

// SenderFunc lets a function be a Sender.
type SenderFunc func(ctx context.Context, it store.OutboxItem) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, it store.OutboxItem) error { return f(ctx, it) }

// Kind is the channel kind of a destination, the part before the first
// colon: "sms" for "sms:+15551234", "web" for "web". Senders are
// registered by kind.
func Kind(destination string) string {
	kind, _, _ := strings.Cut(destination, ":")
	return kind
}

// RetryAfter is the error a sender returns when the service asked it to
// wait (HTTP 429 or 503 with Retry-After): the next attempt is not made
// before After has passed.
type RetryAfter struct {
	After time.Duration
	Err   error
}

func (e *RetryAfter) Error() string { return fmt.Sprintf("retry after %s: %v", e.After, e.Err) }

// Unwrap returns the service's error.
func (e *RetryAfter) Unwrap() error { return e.Err }

// Permanent marks err as one that trying again cannot fix (the service
// refused the item: an invalid number, a deleted channel): the worker gives
// the item up at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, came from
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }
