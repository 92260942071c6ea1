package postgres

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/store/postgres/pgtest"
)

func openInternal(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The pool holds defaultMaxConns connections unless the DSN says otherwise.
func TestPoolSize(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "3")
	u.RawQuery = q.Encode()
	for _, tc := range []struct {
		dsn  string
		want int32
	}{{dsn, defaultMaxConns}, {u.String(), 3}} {
		if got := openInternal(t, tc.dsn).pool.Config().MaxConns; got != tc.want {
			t.Errorf("pool of %s holds %d connections, want %d", tc.dsn, got, tc.want)
		}
	}
}

// A lock statement that hangs on one session (a slow server, a lost
// packet) holds up the conversations whose locks live there, not all.
func TestBusyLockSessionHoldsUpOnlyItsConversations(t *testing.T) {
	s := openInternal(t, pgtest.SchemaDSN(t))
	busy := store.ConversationID("c0")
	stuck := s.locks.sessionOf(busy)
	stuck.mu.Lock() // a statement under way on busy's session
	defer stuck.mu.Unlock()
	var other store.ConversationID
	for i := 1; other == ""; i++ {
		if id := store.ConversationID(fmt.Sprint("c", i)); s.locks.sessionOf(id) != stuck {
			other = id
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	unlock, err := s.LockConversation(ctx, other)
	if err != nil {
		t.Fatalf("LockConversation(%s) while %s's session is busy: %v", other, busy, err)
	}
	unlock()
}
