package events

import (
	"slices"
	"sync"
)

// Buffer is how many events a subscription to every conversation (an
// agent's stream, a delivery worker) holds for a slow reader before it
// drops them and signals Lagged.
const Buffer = 256

// ConversationBuffer is the same for a subscription to one conversation (a
// visitor's stream), which hears a few events a turn. A buffer is
// allocated whole when the subscription opens and the garbage collector
// scans it for as long as it is open: at Buffer events, a visitor's
// stream would hold 28 KiB for nothing, and 5,000 of them most of the
// gateway's heap.
const ConversationBuffer = 32

// Subscription receives the events its filter selects.
type Subscription struct {
	filter Filter
	c      chan Event
	lagged chan struct{}
	done   chan struct{}
	once   sync.Once
	remove func(*Subscription)
}

// C delivers the events, in the order this instance received them.
func (s *Subscription) C() <-chan Event { return s.c }

// Lagged is signalled when events were dropped (a full buffer, a lost
// connection to the database): the subscriber must catch up from the
// store. It holds at most one signal however many were missed.
func (s *Subscription) Lagged() <-chan struct{} { return s.lagged }

// Done is closed when the subscription or the bus is closed.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		if s.remove != nil {
			s.remove(s)
		}
		close(s.done)
	})
}

func (s *Subscription) matches(e Event) bool {
	if s.filter.ConversationID != "" && s.filter.ConversationID != e.ConversationID {
		return false
	}
	return len(s.filter.Kinds) == 0 || slices.Contains(s.filter.Kinds, e.Kind)
}

// offer hands e over without blocking; a full buffer drops it and marks
// the subscription lagged.
func (s *Subscription) offer(e Event) {
	select {
	case s.c <- e:
	default:
		s.lag()
	}
}

func (s *Subscription) lag() {
	select {
	case s.lagged <- struct{}{}:
	default:
	}
}

// fanout is the subscriber table both buses share: subscriptions by
// conversation, and those for every conversation.
type fanout struct {
	mu     sync.RWMutex
	convs  map[string]map[*Subscription]struct{}
	all    map[*Subscription]struct{}
	closed bool
}

func newFanout() *fanout {
	return &fanout{convs: map[string]map[*Subscription]struct{}{}, all: map[*Subscription]struct{}{}}
}

func (f *fanout) subscribe(flt Filter) *Subscription {
	size := Buffer
	if flt.ConversationID != "" {
		size = ConversationBuffer
	}
	s := &Subscription{filter: flt, c: make(chan Event, size), lagged: make(chan struct{}, 1), done: make(chan struct{})}
	s.remove = f.remove
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(s.done)
		s.once.Do(func() {})
		return s
	}
	if id := string(flt.ConversationID); id != "" {
		if f.convs[id] == nil {
			f.convs[id] = map[*Subscription]struct{}{}
		}
		f.convs[id][s] = struct{}{}
	} else {
		f.all[s] = struct{}{}
	}
	return s
}

func (f *fanout) remove(s *Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id := string(s.filter.ConversationID); id != "" {
		if subs := f.convs[id]; subs != nil {
			delete(subs, s)
			if len(subs) == 0 {
				delete(f.convs, id)
			}
		}
		return
	}
	delete(f.all, s)
}

// deliver offers e to every matching subscription; it never blocks.
func (f *fanout) deliver(e Event) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for s := range f.convs[string(e.ConversationID)] {
		if s.matches(e) {
			s.offer(e)
		}
	}
	for s := range f.all {
		if s.matches(e) {
			s.offer(e)
		}
	}
}

// lagAll tells every subscription it missed events.
func (f *fanout) lagAll() {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, subs := range f.convs {
		for s := range subs {
			s.lag()
		}
	}
	for s := range f.all {
		s.lag()
	}
}

// close ends every subscription.
func (f *fanout) close() {
	f.mu.Lock()
	var subs []*Subscription
	for _, m := range f.convs {
		for s := range m {
			subs = append(subs, s)
		}
	}
	for s := range f.all {
		subs = append(subs, s)
	}
	f.convs, f.all, f.closed = map[string]map[*Subscription]struct{}{}, map[*Subscription]struct{}{}, true
	f.mu.Unlock()
	for _, s := range subs {
		s.remove = nil
		s.Close()
	}
}

// count is how many subscriptions are open.
func (f *fanout) count() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := len(f.all)
	for _, m := range f.convs {
		n += len(m)
	}
	return n
}
