package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"switchboard/events"
)

const (
	// MaxFrame bounds a client frame; a larger one closes the stream (1009).
	MaxFrame = 16 << 10
	// authTimeout is how long a stream may wait for its auth frame.
	authTimeout = 10 * time.Second
	// writeTimeout bounds one event's delivery to a stuck client.
	writeTimeout = 10 * time.Second
)

// ClientFrame is what a client may send on a stream.
type ClientFrame struct {
	Type     string `json:"type"`
	Token    string `json:"token"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
}

// OpenStream upgrades a stream request that auth accepts. The token comes
// from the query (checked before the upgrade, so a bad one gets its HTTP
// status) or from the first frame (a bad one closes the stream with 1008).
// On false the request has been answered.
func OpenStream(w http.ResponseWriter, r *http.Request, origins []string, log *slog.Logger,
	auth func(ctx context.Context, token string) error) (*websocket.Conn, bool) {
	tok := r.URL.Query().Get("token")
	if tok != "" {
		if err := auth(r.Context(), tok); err != nil {
			WriteError(w, r, log, err)
			return nil, false
		}
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: origins})
	if err != nil {
		return nil, false // Accept has answered: 403 for a foreign origin, 400 for a bad handshake
	}
	conn.SetReadLimit(MaxFrame)
	if tok == "" {
		if tok, err = authFrame(r.Context(), conn); err == nil {
			err = auth(r.Context(), tok)
		}
		if err != nil {
			conn.Close(websocket.StatusPolicyViolation, truncate(PublicError(err), 120))
			return nil, false
		}
	}
	return conn, true
}

// authFrame reads the first frame, which must carry the token.
func authFrame(ctx context.Context, conn *websocket.Conn) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, authTimeout)
	defer cancel()
	_, data, err := conn.Read(ctx)
	if err != nil {
		return "", err
	}
	var f ClientFrame
	if json.Unmarshal(data, &f) != nil || f.Type != "auth" || f.Token == "" {
		return "", Errorf(http.StatusUnauthorized, "the first frame must be {\"type\": \"auth\", \"token\": ...}")
	}
	return f.Token, nil
}

// Renderer turns bus events into what one stream shows.
type Renderer interface {
	// Render is what e looks like on this stream: nothing, or one or more
	// events.
	Render(ctx context.Context, e events.Event) ([]Event, error)
	// CatchUp is what the stream missed after the bus dropped events.
	CatchUp(ctx context.Context) ([]Event, error)
}

// Pump writes a subscription's events to conn until ctx, the stream or the
// subscription ends. Events it missed are caught up from the store
// (Renderer.CatchUp), so a slow client loses nothing. It owns writes to
// conn; WriteEvent may be used by the same goroutine only.
func Pump(ctx context.Context, conn *websocket.Conn, sub *events.Subscription, r Renderer, log *slog.Logger) {
	for {
		var (
			out []Event
			err error
		)
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			conn.Close(websocket.StatusGoingAway, "server is shutting down")
			return
		case <-sub.Lagged():
			out, err = r.CatchUp(ctx)
		case e := <-sub.C():
			out, err = r.Render(ctx, e)
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("stream event", "error", err)
			}
			continue
		}
		for _, ev := range out {
			if err := WriteEvent(ctx, conn, ev); err != nil {
				return
			}
		}
	}
}

// WriteEvent sends one event, bounded by writeTimeout.
func WriteEvent(ctx context.Context, conn *websocket.Conn, ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
