package events

import (
	"context"
	"errors"
	"fmt"
)

// maxBatch bounds the notifications one publishing statement carries:
// 256 events of at most MaxEventBytes stay far below a query's limits.
const maxBatch = 256

// errClosed is what Publish returns once the bus is closed.
var errClosed = errors.New("events: the bus is closed")

// publishing is one Publish waiting for its NOTIFY to commit.
type publishing struct {
	payload string
	done    chan error // buffered: the publisher never waits on a caller
}

// notifySQL sends every payload of $2, in order, in one statement and so
// in one transaction: PostgreSQL delivers them at its commit, in order.
// Identical payloads in one transaction are delivered once; events that
// name ids are distinct, and two identical ones say nothing the first did
// not.
const notifySQL = `SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n`

// publish owns the sending of notifications. A NOTIFY is a transaction
// whose commit waits for the WAL flush, so one per event made every event
// pay a flush and, under load, queue behind the others on the pool's few
// connections. Publish calls that arrive while a batch is in flight go
// together in the next one: one flush for all of them, and when the bus is
// idle an event goes alone at once, as before.
func (b *Postgres) publish(ctx context.Context) {
	defer close(b.pubDone)
	for {
		var batch []publishing
		select {
		case p := <-b.pub:
			batch = append(batch, p)
		case <-ctx.Done():
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case p := <-b.pub:
				batch = append(batch, p)
			default:
				break more
			}
		}
		payloads := make([]string, len(batch))
		for i, p := range batch {
			payloads[i] = p.payload
		}
		_, err := b.pool.Exec(ctx, notifySQL, b.channel, payloads)
		if err != nil {
			err = fmt.Errorf("notify %d events: %w", len(batch), err)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// send hands payload to the publisher and waits until it was sent. A
// caller that gives up (ctx) does not stop the event: the store has
// committed what it describes, and the other instances must hear of it.
func (b *Postgres) send(ctx context.Context, payload string) error {
	p := publishing{payload: payload, done: make(chan error, 1)}
	select {
	case b.pub <- p:
	case <-b.pubDone:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-b.pubDone:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}
