package keylock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
)

func TestWaiterGetsTheKeyWhenItIsFreed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s Set
		unlock, err := s.Lock(t.Context(), "c1")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan struct{})
		go func() {
			u, err := s.Lock(t.Context(), "c1")
			if err != nil {
				t.Error(err)
				return
			}
			close(got)
			u()
		}()
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("a second holder took c1 while the first held it")
		default:
		}
		other, err := s.Lock(t.Context(), "c2")
		if err != nil {
			t.Fatalf("c2 while c1 is held: %v", err)
		}
		other()
		unlock()
		<-got
		unlock() // again: must not free the key a second time
		synctest.Wait()
		if n := s.held(); n != 0 {
			t.Errorf("%d keys still tracked with nobody holding or waiting, want 0", n)
		}
	})
}

func TestCanceledWaiterHoldsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s Set
		unlock, err := s.Lock(t.Context(), "c1")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() {
			_, err := s.Lock(ctx, "c1")
			errc <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled waiter: %v, want context.Canceled", err)
		}
		unlock()
		again, err := s.Lock(t.Context(), "c1")
		if err != nil {
			t.Fatalf("after the holder left and the waiter gave up: %v", err)
		}
		again()
		if _, err := s.Lock(ctx, "free"); !errors.Is(err, context.Canceled) {
			t.Errorf("Lock with a context already over = %v, want context.Canceled", err)
		}
		if n := s.held(); n != 0 {
			t.Errorf("%d keys still tracked, want 0", n)
		}
	})
}

func TestOneHolderAtATime(t *testing.T) {
	var s Set
	var mu sync.Mutex // never contended if Set excludes
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				unlock, err := s.Lock(t.Context(), "c1")
				if err != nil {
					t.Error(err)
					return
				}
				if !mu.TryLock() {
					t.Error("two holders of c1 at once")
				} else {
					mu.Unlock()
				}
				unlock()
			}
		})
	}
	wg.Wait()
}

// held returns how many keys have a holder or a waiter, so a test sees that freed keys are dropped.
func (s *Set) held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.locks)
}
