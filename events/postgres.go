package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the bus of several instances on one database: Publish is a
// NOTIFY, and one connection per instance LISTENs and fans the events out
// to that instance's subscribers. An instance hears its own events through
// the database too, so every instance sees one order.
//
// The channel is named after the connection's schema, so that deployments
// (and tests) in separate schemas of one database do not hear each other.
type Postgres struct {
	pool     *pgxpool.Pool
	connCfg  *pgx.ConnConfig
	channel  string
	instance string
	log      *slog.Logger
	f        *fanout

	// pub feeds the publisher goroutine (publish); pubDone closes when it
	// has stopped.
	pub     chan publishing
	pubDone chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
	// ready is closed once the first LISTEN is in place, so that an event
	// published after NewPostgres returns is heard.
	ready     chan struct{}
	readyOnce sync.Once
}

var _ Bus = (*Postgres)(nil)

// reconnect bounds the waits between attempts to get the listener back.
const (
	minReconnect = 50 * time.Millisecond
	maxReconnect = 5 * time.Second
)

// NewPostgres connects to dsn, starts listening and returns when the
// listener is in place. The DSN never appears in errors.
func NewPostgres(ctx context.Context, dsn, instance string, log *slog.Logger) (*Postgres, error) {
	poolCfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("events: postgres: the DSN does not parse")
	}
	poolCfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("events: postgres: %w", err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("events: postgres: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &Postgres{
		pool: pool, connCfg: poolCfg.ConnConfig.Copy(), channel: "switchboard_events_" + schema,
		instance: instance, log: log, f: newFanout(), cancel: cancel,
		done: make(chan struct{}), ready: make(chan struct{}),
		pub: make(chan publishing), pubDone: make(chan struct{}),
	}
	go b.listen(runCtx)
	go b.publish(runCtx)
	select {
	case <-b.ready:
		return b, nil
	case <-ctx.Done():
		b.Close()
		return nil, fmt.Errorf("events: postgres: listen: %w", ctx.Err())
	}
}

// Publish sends e to every instance's subscribers through NOTIFY and
// returns once the NOTIFY committed; concurrent calls share one (publish).
func (b *Postgres) Publish(ctx context.Context, e Event) error {
	e.Instance = b.instance
	payload, err := e.Encode()
	if err != nil {
		return err
	}
	if err := b.send(ctx, string(payload)); err != nil {
		return fmt.Errorf("events: publish %s: %w", e.Kind, err)
	}
	return nil
}

// Subscribe opens a subscription on this instance.
func (b *Postgres) Subscribe(f Filter) *Subscription { return b.f.subscribe(f) }

// Subscribers is how many subscriptions are open on this instance.
func (b *Postgres) Subscribers() int { return b.f.count() }

// Close stops listening, ends every subscription and closes the pool.
func (b *Postgres) Close() error {
	b.cancel()
	<-b.done
	<-b.pubDone
	b.f.close()
	b.pool.Close()
	return nil
}

// listen owns the listening connection: it (re)connects, LISTENs and
// delivers notifications until ctx ends. Whenever the connection is lost
// every subscriber is told it lagged, since NOTIFYs sent meanwhile are gone.
func (b *Postgres) listen(ctx context.Context) {
	defer close(b.done)
	wait := minReconnect
	for ctx.Err() == nil {
		began := time.Now()
		err := b.session(ctx)
		if time.Since(began) > maxReconnect {
			wait = minReconnect // it had been up a while: a fresh failure
		}
		if ctx.Err() != nil {
			return
		}
		b.f.lagAll()
		b.log.Warn("event bus lost its database connection; reconnecting", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, maxReconnect)
	}
}

// session runs one listening connection until it fails.
func (b *Postgres) session(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, b.connCfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	first := false
	b.readyOnce.Do(func() { close(b.ready); first = true })
	if !first {
		// Back after a gap: whatever was published meanwhile is missed.
		b.f.lagAll()
		b.log.Info("event bus reconnected")
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait: %w", err)
		}
		e, err := Decode([]byte(n.Payload))
		if err != nil {
			b.log.Warn("event bus: dropped a notification that is not an event", "error", err)
			continue
		}
		b.f.deliver(e)
	}
}
