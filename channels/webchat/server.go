// Package webchat is the web chat channel: the HTTP and WebSocket API that
// the widget and the agent console use (api/openapi.yaml). It speaks HTTP
// and nothing else: every customer message goes to the dialog conductor,
// which stores it and decides; this package delivers the outcome as events.
package webchat

import (
	"log/slog"
	"net/http"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/store"
)

// Live is the part of the config a request runs on; the gateway swaps it on
// reload.
type Live struct {
	Web     config.WebChannel
	Handoff config.Handoff
	File    string // the config file, for the settings view
	Company string
}

// Options are the channel's dependencies.
type Options struct {
	Store  store.Store
	Turns  *dialog.Conductor
	Live   func() Live
	Tokens *Tokens
	Log    *slog.Logger
	Now    func() time.Time
}

// Server serves the web chat and agent API.
type Server struct {
	o      Options
	hub    *hub
	limits *limits
}

// New builds the channel.
func New(o Options) *Server {
	return &Server{o: o, hub: newHub(), limits: newLimits(o.Now)}
}

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	customer := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.cors(h)) }
	customer("POST /api/v1/conversations", s.createConversation)
	customer("GET /api/v1/conversations/{id}", s.customer(s.getConversation))
	customer("GET /api/v1/conversations/{id}/messages", s.customer(s.listMessages))
	customer("POST /api/v1/conversations/{id}/messages", s.customer(s.postMessage))
	customer("POST /api/v1/conversations/{id}/details", s.customer(s.postDetails))
	customer("GET /api/v1/widget/config", s.widgetConfig)
	for _, p := range []string{"/api/v1/conversations", "/api/v1/conversations/{id}", "/api/v1/conversations/{id}/messages",
		"/api/v1/conversations/{id}/details", "/api/v1/widget/config"} {
		customer("OPTIONS "+p, func(http.ResponseWriter, *http.Request) {})
	}
	mux.HandleFunc("GET /api/v1/conversations/{id}/stream", s.customerStream)

	mux.HandleFunc("GET /api/v1/agent/queue", s.agent(s.queue))
	mux.HandleFunc("GET /api/v1/agent/conversations/{id}", s.agent(s.agentConversation))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/claim", s.agent(s.claim))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/messages", s.agent(s.agentMessage))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/resolve", s.agent(s.resolve))
	mux.HandleFunc("POST /api/v1/agent/conversations/{id}/return-to-ai", s.agent(s.returnToAI))
	mux.HandleFunc("GET /api/v1/agent/stream", s.agentStream)
	mux.HandleFunc("GET /api/v1/agent/insights", s.agent(s.insights))
	mux.HandleFunc("GET /api/v1/agent/settings", s.agent(s.settings))
}

// Subscribers is how many streams are open, for metrics and tests.
func (s *Server) Subscribers() int { return s.hub.count() }
