package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/store"
)

// lockWithin takes id's lock on s, failing the test unless it gets it
// within a few seconds.
func lockWithin(t *testing.T, s store.Store, id store.ConversationID) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	unlock, err := s.LockConversation(ctx, id)
	if err != nil {
		t.Fatalf("LockConversation(%s): %v", id, err)
	}
	return unlock
}

// waits reports whether taking id's lock on s is still waiting after a
// moment: someone else holds it.
func waits(t *testing.T, s store.Store, id store.ConversationID) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	unlock, err := s.LockConversation(ctx, id)
	if err == nil {
		unlock()
		return false
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockConversation(%s): %v, want it to wait until the deadline", id, err)
	}
	return true
}

// TestLocksExcludeAcrossInstances runs two stores on one schema, each with
// its own pool, as two gateway instances would.
func TestLocksExcludeAcrossInstances(t *testing.T) {
	dsn := schemaDSN(t)
	a, b := open(t, dsn), open(t, dsn)

	unlock := lockWithin(t, a, "c1")
	if !waits(t, b, "c1") {
		t.Fatal("instance b took c1 while instance a held it")
	}
	lockWithin(t, b, "c2")() // another conversation is free

	var released atomic.Bool
	got := make(chan error, 1)
	go func() {
		u, err := b.LockConversation(t.Context(), "c1")
		if err == nil {
			if !released.Load() {
				err = errors.New("b took c1 while a held it")
			}
			u()
		}
		got <- err
	}()
	released.Store(true)
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("b waiting for c1: %v", err)
	}

	// b gives up waiting while a holds c1; when a is done, c1 is free:
	// b's abandoned wait left no lock behind in the server.
	unlock = lockWithin(t, a, "c1")
	if !waits(t, b, "c1") {
		t.Fatal("instance b took c1 while instance a held it")
	}
	unlock()
	lockWithin(t, a, "c1")()
	lockWithin(t, b, "c1")()
}

// TestLocksLeaveThePoolFree holds more conversation locks than the pool
// has connections, as turns waiting on a model do, and checks the holders
// can still query: a lock that kept a pooled connection would starve them.
func TestLocksLeaveThePoolFree(t *testing.T) {
	s := open(t, withParam(schemaDSN(t), "pool_max_conns", "2"))
	for i := range 6 {
		defer lockWithin(t, s, store.ConversationID(fmt.Sprintf("c%d", i)))()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.Conversation(ctx, "c0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Conversation while 6 locks are held on a pool of 2: %v, want ErrNotFound", err)
	}
}

// TestLockSessionEnds kills the session that holds an instance's locks:
// PostgreSQL frees them, and the instance opens a new session for the next.
func TestLockSessionEnds(t *testing.T) {
	dsn := schemaDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	unlock := lockWithin(t, a, "c1")
	terminateHolder(t, dsn, "c1")
	lockWithin(t, b, "c1")() // the lock went with a's session
	unlock()                 // a's session is gone: nothing to release
	unlock = lockWithin(t, a, "c1")
	if !waits(t, b, "c1") {
		t.Fatal("a's new session did not take c1")
	}
	unlock()
	lockWithin(t, b, "c1")()
}

// terminateHolder ends the server session that holds conversation id's
// advisory lock. pg_locks shows a bigint key as classid (high half) and
// objid (low half).
func terminateHolder(t *testing.T, dsn string, id store.ConversationID) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var n int
	err = conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
			AND (classid::bigint << 32 | objid::bigint) =
				hashtextextended('switchboard/conversation ' || current_schema() || ' ' || $1, 0)`, id).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminate the holder of %s: %d sessions, %v; want 1", id, n, err)
	}
}

func withParam(dsn, key, value string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " " + key + "=" + value
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
