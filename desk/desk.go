// Package desk is the agents' side of every channel: the console API
// (queue, conversation, claim, reply, resolve, return to the AI, stream,
// insights, settings), the agents and their tokens, and who is online.
// It speaks to channels only through the store, the bus and the reply
// routes they register; it knows no channel's protocol.
package desk

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"switchboard/api"
	"switchboard/config"
	"switchboard/events"
	"switchboard/store"
)

// Route carries an agent's reply, already stored, to the customer of a
// conversation on its channel: the web chat's is the bus itself (the
// visitor's stream hears the message), asynchronous channels enqueue it in
// the outbox.
type Route interface {
	Deliver(ctx context.Context, c store.Conversation, m store.Message) error
}

// RouteFunc is a Route as a function.
type RouteFunc func(ctx context.Context, c store.Conversation, m store.Message) error

// Deliver calls f.
func (f RouteFunc) Deliver(ctx context.Context, c store.Conversation, m store.Message) error {
	return f(ctx, c, m)
}

// ByBus is the route of a channel whose customers hear the bus directly.
var ByBus Route = RouteFunc(func(context.Context, store.Conversation, store.Message) error { return nil })

// Live is the part of the config the desk runs on; the gateway swaps it on
// reload.
type Live struct {
	Handoff         config.Handoff
	File            string   // the config file, for the settings view
	AllowedOrigins  []string // pages that may open the agent stream besides the gateway's own
	MaxMessageChars int
}

// Options are the desk's dependencies.
type Options struct {
	Store    store.Store
	Bus      events.Bus
	Agents   *Agents
	Presence *Presence
	// Routes carry replies by channel; a conversation whose channel has
	// none (a phone call, once it has ended) takes no reply.
	Routes map[string]Route
	Live   func() Live
	// AnswerPending, when set, lets the AI answer a customer message left
	// unanswered when a conversation is returned to it.
	AnswerPending func(ctx context.Context, id store.ConversationID) error
	Log           *slog.Logger
	Now           func() time.Time
}

// Desk serves the agent API.
type Desk struct{ o Options }

// New builds the desk.
func New(o Options) *Desk { return &Desk{o: o} }

// Register adds the agent API's routes to mux.
func (d *Desk) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/agent/queue", d.agent(d.queue))
	mux.HandleFunc("GET /api/v1/agent/conversations/{id}", d.agent(d.conversation))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/claim", d.agent(d.claim))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/messages", d.agent(d.reply))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/resolve", d.agent(d.resolve))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/return-to-ai", d.agent(d.returnToAI))
	mux.HandleFunc("GET /api/v1/agent/stream", d.stream)
	mux.HandleFunc("GET /api/v1/agent/insights", d.agent(d.insights))
	mux.HandleFunc("GET /api/v1/agent/settings", d.agent(d.settings))
	mux.HandleFunc("GET /api/v1/agent/me", d.agent(d.me))
}

// Names is the agents' display names, for the wire forms.
func (d *Desk) Names() api.Names { return d.o.Agents.Name }

// handler is a handler for an authenticated agent.
type handler func(w http.ResponseWriter, r *http.Request, a Agent) error

// agent refuses requests without a valid agent token: 401 with a JSON
// error, and nothing changes.
func (d *Desk) agent(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := d.o.Agents.Authenticate(bearer(r.Header.Get("Authorization")))
		if !ok {
			d.writeError(w, r, api.Errorf(http.StatusUnauthorized, "wrong or missing agent token"))
			return
		}
		if err := h(w, r, a); err != nil {
			d.writeError(w, r, err)
		}
	}
}

func (d *Desk) writeError(w http.ResponseWriter, r *http.Request, err error) {
	api.WriteError(w, r, d.o.Log, err)
}

// me is who the token belongs to, and who else is online.
func (d *Desk) me(w http.ResponseWriter, _ *http.Request, a Agent) error {
	online := d.o.Presence.Online()
	api.WriteJSON(w, http.StatusOK, map[string]any{"id": a.ID, "name": a.Name, "online": online,
		"online_names": d.names(online)})
	return nil
}

// names is the display names of the agents with these ids, in order.
func (d *Desk) names(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = d.o.Agents.Name(id)
	}
	return out
}

// publish tells every instance what happened; the store has committed it.
func (d *Desk) publish(ctx context.Context, e events.Event) {
	if err := d.o.Bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		d.o.Log.Warn("event not published; streams catch up on their next event", "kind", e.Kind,
			"conversation_id", e.ConversationID, "error", err)
	}
}

func bearer(h string) string {
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	return ""
}
