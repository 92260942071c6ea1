package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"switchboard/store"
)

const (
	// maxFrame bounds a client frame; a larger one closes the stream (1009).
	maxFrame = 16 << 10
	// authTimeout is how long a stream may wait for its auth frame.
	authTimeout = 10 * time.Second
	// writeTimeout bounds one event's delivery to a stuck client.
	writeTimeout = 10 * time.Second
)

// clientFrame is what a client may send on a stream.
type clientFrame struct {
	Type     string `json:"type"`
	Token    string `json:"token"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.o.Live().Web.AllowedOrigins})
	if err != nil {
		return nil, err // Accept has answered: 403 for a foreign origin, 400 for a bad handshake
	}
	conn.SetReadLimit(maxFrame)
	return conn, nil
}

// authFrame reads the first frame, which must carry the token.
func authFrame(ctx context.Context, conn *websocket.Conn) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, authTimeout)
	defer cancel()
	_, data, err := conn.Read(ctx)
	if err != nil {
		return "", err
	}
	var f clientFrame
	if json.Unmarshal(data, &f) != nil || f.Type != "auth" || f.Token == "" {
		return "", errors.New("the first frame must be {\"type\": \"auth\", \"token\": ...}")
	}
	return f.Token, nil
}

// openStream upgrades a stream request that auth accepts. The token comes
// from the query (checked before the upgrade, so a bad one gets its HTTP
// status) or from the first frame (a bad one closes the stream with 1008).
func (s *Server) openStream(w http.ResponseWriter, r *http.Request, auth func(ctx context.Context, tok string) error) (*websocket.Conn, bool) {
	tok := r.URL.Query().Get("token")
	if tok != "" {
		if err := auth(r.Context(), tok); err != nil {
			s.writeError(w, r, err)
			return nil, false
		}
	}
	conn, err := s.accept(w, r)
	if err != nil {
		return nil, false
	}
	if tok == "" {
		if tok, err = authFrame(r.Context(), conn); err == nil {
			err = auth(r.Context(), tok)
		}
		if err != nil {
			conn.Close(websocket.StatusPolicyViolation, truncate(publicError(err), 120))
			return nil, false
		}
	}
	return conn, true
}

// customerStream is one conversation's live events; the customer may also
// send messages on it.
func (s *Server) customerStream(w http.ResponseWriter, r *http.Request) {
	var c store.Conversation
	conn, ok := s.openStream(w, r, func(ctx context.Context, tok string) (err error) {
		c, err = s.authCustomer(ctx, r.PathValue("id"), tok)
		return err
	})
	if !ok {
		return
	}
	defer conn.CloseNow()
	sub, unsubscribe := s.hub.subscribe(string(c.ID))
	defer unsubscribe()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go s.writeLoop(ctx, cancel, conn, sub)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return // closed, too large (1009, sent by the library), or cancelled
		}
		s.customerFrame(ctx, conn, c, data)
	}
}

func (s *Server) customerFrame(ctx context.Context, conn *websocket.Conn, c store.Conversation, data []byte) {
	var f clientFrame
	err := json.Unmarshal(data, &f)
	switch {
	case err != nil:
		err = errorf(http.StatusBadRequest, "invalid JSON: %v", err)
	case f.Type != "message":
		err = errorf(http.StatusBadRequest, "unknown frame type %q", f.Type)
	default:
		_, err = s.customerText(ctx, c, f.Text, f.ClientID)
	}
	if err != nil {
		b, _ := json.Marshal(event{Type: "error", ConversationID: string(c.ID), Error: publicError(err)})
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		_ = conn.Write(wctx, websocket.MessageText, b) // a broken stream ends in the read loop
	}
}

// agentStream is every conversation's events that concern agents.
func (s *Server) agentStream(w http.ResponseWriter, r *http.Request) {
	conn, ok := s.openStream(w, r, func(_ context.Context, tok string) error {
		if _, ok := s.o.Tokens.Agent(tok); !ok {
			return errorf(http.StatusUnauthorized, "a valid agent token is required")
		}
		return nil
	})
	if !ok {
		return
	}
	defer conn.CloseNow()
	sub, unsubscribe := s.hub.subscribe("")
	defer unsubscribe()
	ctx, cancel := context.WithCancel(conn.CloseRead(r.Context()))
	defer cancel()
	s.writeLoop(ctx, cancel, conn, sub)
}

// writeLoop sends a stream's events until the stream or ctx ends. A client
// that falls too far behind is closed; it reconnects and refetches.
func (s *Server) writeLoop(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, sub *subscriber) {
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.closed:
			conn.Close(websocket.StatusTryAgainLater, "too slow; reconnect and refetch")
			return
		case b := <-sub.out:
			wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
			err := conn.Write(wctx, websocket.MessageText, b)
			wcancel()
			if err != nil {
				return
			}
		}
	}
}

func publicError(err error) string {
	var api *apiError
	if errors.As(err, &api) {
		return api.msg
	}
	if errors.Is(err, store.ErrNotFound) {
		return "no such conversation"
	}
	return "internal error"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
