package webchat

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/coder/websocket"

	"switchboard/api"
	"switchboard/events"
	"switchboard/store"
)

// customerStream is one conversation's live events, from the bus; the
// customer may also send messages on it.
func (s *Server) customerStream(w http.ResponseWriter, r *http.Request) {
	var c store.Conversation
	conn, ok := api.OpenStream(w, r, s.o.Live().Web.AllowedOrigins, s.o.Log, func(ctx context.Context, tok string) (err error) {
		c, err = s.authCustomer(ctx, r.PathValue("id"), tok)
		return err
	})
	if !ok {
		return
	}
	defer conn.CloseNow()
	// Subscribe before reading the history, so nothing falls between.
	sub := s.o.Bus.Subscribe(events.Filter{ConversationID: c.ID})
	defer sub.Close()
	view, err := api.NewView(r.Context(), s.o.Store, s.o.Names, c)
	if err != nil {
		s.o.Log.Warn("stream not opened", "conversation_id", c.ID, "error", err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		defer cancel()
		api.Pump(ctx, conn, sub, view, s.o.Log)
	}()
	defer func() { cancel(); <-pumped }()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return // closed, too large (1009, sent by the library), or cancelled
		}
		s.customerFrame(ctx, r, conn, c, data)
	}
}

// customerFrame handles one frame the visitor sent. A message here counts
// against the same limits as one sent over HTTP.
func (s *Server) customerFrame(ctx context.Context, r *http.Request, conn *websocket.Conn, c store.Conversation, data []byte) {
	var f api.ClientFrame
	err := json.Unmarshal(data, &f)
	switch {
	case err != nil:
		err = api.Errorf(http.StatusBadRequest, "invalid JSON: %v", err)
	case f.Type != "message":
		err = api.Errorf(http.StatusBadRequest, "unknown frame type %q", f.Type)
	case !s.limits.allowIP(r, s.o.Live().Web.RateLimit.PerIP):
		err = api.Errorf(http.StatusTooManyRequests, "too many requests; slow down")
	default:
		_, err = s.customerText(ctx, c, f.Text, f.ClientID)
	}
	if err != nil {
		// A broken stream ends in the read loop.
		_ = api.WriteEvent(ctx, conn, api.Event{Type: api.EventError, ConversationID: string(c.ID), Error: api.PublicError(err)})
	}
}
