package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/store"
)

// held is how long a waiter waits to show that a lock is held; settle bounds
// how long taking a free lock may take.
const (
	held   = 100 * time.Millisecond
	settle = 10 * time.Second
)

// testLocks checks that the turns of one conversation run one at a time.
func testLocks(t *testing.T, open opener) {
	t.Run("OneAtATime", func(t *testing.T) { testLockExcludes(t, open(t)) })
	t.Run("WaiterGetsItWhenFreed", func(t *testing.T) {
		s := open(t)
		unlock := lock(t, s, "c1")
		checkWaits(t, s, "c1")
		var released atomic.Bool
		got := make(chan error, 1)
		go func() {
			u, err := s.LockConversation(t.Context(), "c1")
			if err == nil {
				if !released.Load() {
					err = errors.New("took c1 while it was held")
				}
				u()
			}
			got <- err
		}()
		released.Store(true)
		unlock()
		if err := <-got; err != nil {
			t.Errorf("waiter: %v", err)
		}
	})
	t.Run("OtherConversationsDoNotWait", func(t *testing.T) {
		s := open(t)
		defer lock(t, s, "c1")()
		ctx, cancel := context.WithTimeout(t.Context(), settle)
		defer cancel()
		unlock, err := s.LockConversation(ctx, "c2")
		checkErr(t, "LockConversation(c2) while c1 is held", err, nil)
		unlock()
	})
	t.Run("CanceledWaiterHoldsNothing", func(t *testing.T) { testCanceledWaiter(t, open(t)) })
	t.Run("UnlockTwice", func(t *testing.T) {
		s := open(t)
		unlock := lock(t, s, "c1")
		unlock()
		unlock() // must not free the lock of whoever holds it next
		next := lock(t, s, "c1")
		defer next()
		unlock()
		checkWaits(t, s, "c1")
	})
}

// testLockExcludes has several goroutines take one conversation's lock
// over and over, each checking that it is alone while it holds it.
func testLockExcludes(t *testing.T, s store.Store) {
	c := create(t, s, store.Conversation{})
	const workers, rounds = 6, 15
	var inside atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				unlock, err := s.LockConversation(t.Context(), c.ID)
				if err != nil {
					t.Errorf("LockConversation: %v", err)
					return
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d turns of one conversation at once, want 1", n)
				}
				// A turn's own work, while others wait.
				if _, err := s.Messages(t.Context(), c.ID); err != nil {
					t.Errorf("Messages: %v", err)
				}
				inside.Add(-1)
				unlock()
			}
		})
	}
	wg.Wait()
}

// testCanceledWaiter gives up waiting, by cancellation and by deadline:
// the waiter gets its context's error, and once the holder is done the
// conversation is free, so the waiter never took it.
func testCanceledWaiter(t *testing.T, s store.Store) {
	unlock := lock(t, s, "c1")
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		u, err := s.LockConversation(ctx, "c1")
		if err == nil {
			u()
		}
		errc <- err
	}()
	cancel()
	checkErr(t, "canceled waiter", <-errc, context.Canceled)
	checkWaits(t, s, "c1") // a deadline, this time
	unlock()
	free, err := s.LockConversation(withSettle(t), "c1")
	checkErr(t, "LockConversation after the waiters gave up", err, nil)
	free()

	_, err = s.LockConversation(ctx, "c2")
	checkErr(t, "LockConversation with a context already over", err, context.Canceled)
	free, err = s.LockConversation(withSettle(t), "c2")
	checkErr(t, "LockConversation(c2) after a call with a context already over", err, nil)
	free()
}

// lock takes the conversation's lock or fails the test.
func lock(t *testing.T, s store.Store, id store.ConversationID) (unlock func()) {
	t.Helper()
	unlock, err := s.LockConversation(withSettle(t), id)
	if err != nil {
		t.Fatalf("LockConversation(%s): %v", id, err)
	}
	return unlock
}

// checkWaits fails unless a LockConversation of id is still waiting when
// its deadline passes, because someone holds it.
func checkWaits(t *testing.T, s store.Store, id store.ConversationID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), held)
	defer cancel()
	unlock, err := s.LockConversation(ctx, id)
	if err == nil {
		unlock()
	}
	checkErr(t, "LockConversation of a held conversation", err, context.DeadlineExceeded)
}

func withSettle(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), settle)
	t.Cleanup(cancel)
	return ctx
}
