// Package keylock serialises work per key, such as a conversation, inside
// one process, without one lock for every key. Unlike a sync.Mutex, a
// waiter gives up when its context ends.
package keylock

import (
	"context"
	"sync"
)

// Set holds a lock per key. The zero value is ready to use; a key that
// nobody holds or waits for takes no memory.
type Set struct {
	mu    sync.Mutex
	locks map[string]*entry
}

type entry struct {
	token chan struct{} // holds one value while the key is locked
	refs  int           // the holder and the waiters
}

// Lock waits until key is free and takes it. When ctx ends first it
// returns ctx's error and holds nothing. unlock frees the key; calling it
// again does nothing.
func (s *Set) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err // a free key must not be taken with a context already over
	}
	e := s.ref(key)
	select {
	case e.token <- struct{}{}:
	case <-ctx.Done():
		s.unref(key, e)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-e.token
			s.unref(key, e)
		})
	}, nil
}

func (s *Set) ref(key string) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks == nil {
		s.locks = map[string]*entry{}
	}
	e, ok := s.locks[key]
	if !ok {
		e = &entry{token: make(chan struct{}, 1)}
		s.locks[key] = e
	}
	e.refs++
	return e
}

func (s *Set) unref(key string, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(s.locks, key)
	}
}
