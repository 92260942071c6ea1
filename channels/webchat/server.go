// Package webchat is the web chat channel: the visitor's side of the HTTP
// and WebSocket API that the widget uses (api/openapi.yaml). It speaks HTTP
// and nothing else: every customer message goes to the dialog conductor,
// which stores it, decides and publishes on the bus; the visitor's stream
// is a bus subscriber. The agents' side is the desk's.
package webchat

import (
	"log/slog"
	"net/http"
	"time"

	"switchboard/api"
	"switchboard/config"
	"switchboard/dialog"
	"switchboard/events"
	"switchboard/store"
)

// Live is the part of the config a request runs on; the gateway swaps it on
// reload.
type Live struct {
	Web     config.WebChannel
	Handoff config.Handoff
	Company string
}

// Options are the channel's dependencies.
type Options struct {
	Store  store.Store
	Turns  *dialog.Conductor
	Bus    events.Bus
	Live   func() Live
	Tokens *Tokens
	Names  api.Names // agents' display names
	Log    *slog.Logger
	Now    func() time.Time
}

// Server serves the web chat API.
type Server struct {
	o      Options
	limits *limits
}

// New builds the channel.
func New(o Options) *Server {
	return &Server{o: o, limits: newLimits(o.Now)}
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
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	api.WriteError(w, r, s.o.Log, err)
}
