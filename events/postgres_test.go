package events_test

import (
	"fmt"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"switchboard/events"
	"switchboard/store"
	"switchboard/store/postgres/pgtest"
)

func newPG(t *testing.T, dsn, instance string) *events.Postgres {
	t.Helper()
	b, err := events.NewPostgres(t.Context(), dsn, instance, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("NewPostgres: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Two instances on one database hear each other's events, and their own.
func TestPostgresBusAcrossInstances(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	a, b := newPG(t, dsn, "a"), newPG(t, dsn, "b")
	onA := a.Subscribe(events.Filter{ConversationID: "c1"})
	defer onA.Close()
	onB := b.Subscribe(events.Filter{})
	defer onB.Close()

	if err := b.Publish(t.Context(), events.Event{Kind: events.Message, ConversationID: "c1", MessageID: 42}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, onA); e.MessageID != 42 || e.Instance != "b" {
		t.Errorf("instance a got %+v, want message 42 from b", e)
	}
	if e := next(t, onB); e.MessageID != 42 {
		t.Errorf("instance b got %+v, want its own message 42", e)
	}
}

// Deployments in separate schemas of one database do not hear each other.
func TestPostgresBusIsPerSchema(t *testing.T) {
	a, b := newPG(t, pgtest.SchemaDSN(t), "a"), newPG(t, pgtest.SchemaDSN(t), "b")
	s := a.Subscribe(events.Filter{})
	defer s.Close()
	if err := b.Publish(t.Context(), events.Event{Kind: events.Message, ConversationID: "x", MessageID: 1}); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(t.Context(), events.Event{Kind: events.Message, ConversationID: "x", MessageID: 2}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, s); e.MessageID != 2 {
		t.Errorf("got %+v, want only this schema's message 2", e)
	}
}

// When the listening connection is cut, subscribers are told they lagged
// (events sent meanwhile are gone) and events flow again after reconnect.
func TestPostgresBusReconnectsAndSignalsLag(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	a, b := newPG(t, dsn, "a"), newPG(t, dsn, "b")
	s := a.Subscribe(events.Filter{})
	defer s.Close()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Only this test's listeners: other tests may be listening too.
	if err := pgtest.Exec(pgtest.BaseDSN(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query = 'LISTEN "switchboard_events_`+u.Query().Get("search_path")+`"'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Lagged():
	case <-time.After(10 * time.Second):
		t.Fatal("no lag signal after the listener's connection was cut")
	}
	// Publish until one arrives: the listener is back once it does.
	deadline := time.Now().Add(15 * time.Second)
	for i := int64(1); ; i++ {
		if err := b.Publish(t.Context(), events.Event{Kind: events.Message, ConversationID: "c", MessageID: i}); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-s.C():
			if e.Instance != "b" {
				t.Fatalf("got %+v", e)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("events did not flow again after the reconnect")
		}
	}
}

// Events published at once from many goroutines (they go out together,
// several to a NOTIFY statement) all arrive on the other instance, each
// publisher's in the order it published them.
func TestPostgresBusConcurrentPublishersKeepTheirOrder(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	a, b := newPG(t, dsn, "a"), newPG(t, dsn, "b")
	s := a.Subscribe(events.Filter{})
	defer s.Close()
	const publishers, each = 20, 10
	errs := make(chan error, publishers)
	for p := range publishers {
		go func() {
			for i := range each {
				id := store.ConversationID(fmt.Sprintf("c%d", p))
				if err := b.Publish(t.Context(), events.Event{Kind: events.Message, ConversationID: id, MessageID: int64(i + 1)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range publishers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	last := map[store.ConversationID]int64{}
	for range publishers * each {
		e := next(t, s)
		if e.MessageID != last[e.ConversationID]+1 {
			t.Fatalf("%s: message %d after %d, want them in order", e.ConversationID, e.MessageID, last[e.ConversationID])
		}
		last[e.ConversationID] = e.MessageID
	}
}

// Publish on a closed bus fails at once rather than waiting forever.
func TestPostgresBusPublishAfterClose(t *testing.T) {
	b, err := events.NewPostgres(t.Context(), pgtest.SchemaDSN(t), "a", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := b.Publish(t.Context(), events.Event{Kind: events.Message, ConversationID: "c", MessageID: 1}); err == nil {
		t.Fatal("Publish on a closed bus succeeded")
	}
}
