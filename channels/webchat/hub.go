package webchat

import (
	"encoding/json"
	"sync"
)

// event is what the streams carry (api/openapi.yaml lists them).
type event struct {
	Type           string       `json:"type"`
	ConversationID string       `json:"conversation_id"`
	Message        *messageJSON `json:"message,omitempty"`
	Handoff        *handoffJSON `json:"handoff,omitempty"`
	Text           string       `json:"text,omitempty"`
	Agent          string       `json:"agent,omitempty"`
	Error          string       `json:"error,omitempty"`
}

// subBuffer is how many events a slow stream may fall behind before it is
// closed; the client reconnects and refetches the history, so nothing is
// lost, and one stuck browser cannot hold the others up.
const subBuffer = 64

// subscriber is one open stream.
type subscriber struct {
	out    chan []byte
	closed chan struct{}
	once   sync.Once
}

func (s *subscriber) close() { s.once.Do(func() { close(s.closed) }) }

// hub fans events out to the streams of a conversation and to every agent
// stream. It is in-process: one gateway instance.
type hub struct {
	mu     sync.Mutex
	convs  map[string]map[*subscriber]struct{}
	agents map[*subscriber]struct{}
}

func newHub() *hub {
	return &hub{convs: map[string]map[*subscriber]struct{}{}, agents: map[*subscriber]struct{}{}}
}

func newSubscriber() *subscriber {
	return &subscriber{out: make(chan []byte, subBuffer), closed: make(chan struct{})}
}

// subscribe adds a stream for conversation id ("" for an agent stream) and
// returns the function that removes it.
func (h *hub) subscribe(id string) (*subscriber, func()) {
	s := newSubscriber()
	h.mu.Lock()
	if id == "" {
		h.agents[s] = struct{}{}
	} else {
		if h.convs[id] == nil {
			h.convs[id] = map[*subscriber]struct{}{}
		}
		h.convs[id][s] = struct{}{}
	}
	h.mu.Unlock()
	return s, func() {
		h.mu.Lock()
		if id == "" {
			delete(h.agents, s)
		} else if subs := h.convs[id]; subs != nil {
			delete(subs, s)
			if len(subs) == 0 {
				delete(h.convs, id)
			}
		}
		h.mu.Unlock()
		s.close()
	}
}

// publish sends ev to the conversation's streams and, when toAgents, to
// every agent stream. It never blocks.
func (h *hub) publish(ev event, toAgents bool) {
	b, err := json.Marshal(ev)
	if err != nil {
		return // an event is plain data; it always marshals
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.convs[ev.ConversationID] {
		deliver(s, b)
	}
	if toAgents {
		for s := range h.agents {
			deliver(s, b)
		}
	}
}

func deliver(s *subscriber, b []byte) {
	select {
	case s.out <- b:
	default:
		s.close()
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.agents)
	for _, subs := range h.convs {
		n += len(subs)
	}
	return n
}
