package webchat

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"switchboard/api"
	"switchboard/dialog"
	"switchboard/store"
)

// customerHandler is a handler for one authenticated customer conversation.
type customerHandler func(w http.ResponseWriter, r *http.Request, c store.Conversation) error

// customer checks the conversation exists (404) and that the bearer token
// opens it (401 without one, 403 for another conversation's).
func (s *Server) customer(h customerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authCustomer(r.Context(), r.PathValue("id"), bearer(r.Header.Get("Authorization")))
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) authCustomer(ctx context.Context, id, tok string) (store.Conversation, error) {
	if tok == "" {
		return store.Conversation{}, api.Errorf(http.StatusUnauthorized, "a conversation token is required")
	}
	c, err := s.o.Store.Conversation(ctx, store.ConversationID(id))
	if err != nil {
		return c, err
	}
	if !s.o.Tokens.CustomerOK(c.ID, tok) {
		return c, api.Errorf(http.StatusForbidden, "this token does not open this conversation")
	}
	return c, nil
}

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request) {
	live := s.o.Live()
	if !s.limits.allowIP(r, live.Web.RateLimit.PerIP) {
		s.writeError(w, r, api.Errorf(http.StatusTooManyRequests, "too many requests; slow down"))
		return
	}
	var in struct {
		Channel store.Channel `json:"channel"`
	}
	if err := api.Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Channel != store.ChannelWeb {
		s.writeError(w, r, api.Errorf(http.StatusBadRequest, `channel must be "web"`))
		return
	}
	c, err := s.o.Store.CreateConversation(r.Context(), store.Conversation{Channel: store.ChannelWeb, Customer: "web visitor"})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, map[string]string{"id": string(c.ID), "token": s.o.Tokens.Customer(c.ID)})
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, c store.Conversation) error {
	hs, err := s.o.Store.Handoffs(r.Context(), c.ID)
	if err != nil {
		return err
	}
	out := map[string]any{"id": c.ID, "state": c.State, "handoff": api.LatestHandoff(hs)}
	if c.Agent != "" && s.o.Names != nil {
		out["agent_name"] = s.o.Names(c.Agent) // who the customer is talking with
	}
	api.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, c store.Conversation) error {
	ms, err := s.o.Store.Messages(r.Context(), c.ID)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"messages": api.ToMessages(ms, s.o.Names)})
	return nil
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, c store.Conversation) error {
	var in struct {
		Text     string `json:"text"`
		ClientID string `json:"client_id"`
	}
	if err := api.Decode(w, r, &in); err != nil {
		return err
	}
	if !s.limits.allowIP(r, s.o.Live().Web.RateLimit.PerIP) {
		return api.Errorf(http.StatusTooManyRequests, "too many requests; slow down")
	}
	msg, err := s.customerText(r.Context(), c, in.Text, in.ClientID)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusAccepted, map[string]any{"message": msg})
	return nil
}

// customerText is a customer's message from either the API or the stream:
// checked and handed to the conductor, which stores it before anything
// else and publishes what the turn led to.
func (s *Server) customerText(ctx context.Context, c store.Conversation, text, clientID string) (api.Message, error) {
	live := s.o.Live()
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return api.Message{}, api.Errorf(http.StatusBadRequest, "text is empty")
	case utf8.RuneCountInString(text) > live.Web.MaxMessageChars:
		return api.Message{}, api.Errorf(http.StatusRequestEntityTooLarge, "a message holds at most %d characters", live.Web.MaxMessageChars)
	case strings.ContainsRune(text, 0) || strings.ContainsRune(clientID, 0):
		return api.Message{}, api.Errorf(http.StatusBadRequest, "text holds a NUL character")
	case len(clientID) > 64:
		return api.Message{}, api.Errorf(http.StatusBadRequest, "client_id is longer than 64 characters")
	case !s.limits.allowConversation(string(c.ID), live.Web.RateLimit.PerConversation):
		return api.Message{}, api.Errorf(http.StatusTooManyRequests, "too many messages; slow down")
	}
	key := ""
	if clientID != "" {
		key = "web:" + clientID
	}
	out, err := s.o.Turns.CustomerMessage(ctx, dialog.Inbound{ConversationID: c.ID, Text: text, IdempotencyKey: key})
	if err != nil {
		return api.Message{}, err
	}
	return api.ToMessage(out.Message, s.o.Names), nil
}

func (s *Server) widgetConfig(w http.ResponseWriter, _ *http.Request) {
	live := s.o.Live()
	collect := live.Handoff.Collect
	if collect == nil {
		collect = []string{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"company": live.Company, "collect": collect})
}
