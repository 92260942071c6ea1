package webchat

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard/store"
)

// agentHandler is a handler for an authenticated agent.
type agentHandler func(w http.ResponseWriter, r *http.Request, agent string) error

// agent refuses requests without a valid agent token (401).
func (s *Server) agent(h agentHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, ok := s.o.Tokens.Agent(bearer(r.Header.Get("Authorization")))
		if !ok {
			s.writeError(w, r, errorf(http.StatusUnauthorized, "a valid agent token is required"))
			return
		}
		if err := h(w, r, name); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// packet is the context packet a human gets with a conversation.
type packet struct {
	ID         store.ConversationID `json:"id"`
	Link       string               `json:"link"`
	State      store.State          `json:"state"`
	Channel    store.Channel        `json:"channel"`
	Customer   string               `json:"customer"`
	Agent      string               `json:"agent"`
	Handoff    *handoffJSON         `json:"handoff"`
	Details    *details             `json:"details"`
	Transcript []messageJSON        `json:"transcript"`
	CreatedAt  time.Time            `json:"created_at"`
	UpdatedAt  time.Time            `json:"updated_at"`
}

func (s *Server) packet(r *http.Request, c store.Conversation) (packet, error) {
	ms, err := s.o.Store.Messages(r.Context(), c.ID)
	if err != nil {
		return packet{}, err
	}
	hs, err := s.o.Store.Handoffs(r.Context(), c.ID)
	if err != nil {
		return packet{}, err
	}
	return packet{
		ID: c.ID, Link: "/agent?conversation=" + string(c.ID), State: c.State, Channel: c.Channel, Customer: c.Customer, Agent: c.Agent,
		Handoff: latestHandoff(hs), Details: latestDetails(ms), Transcript: toMessages(ms), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}, nil
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request, _ string) error {
	cs, err := s.o.Store.ListConversations(r.Context(), store.ListFilter{States: []store.State{store.StatePendingHuman, store.StateHuman}})
	if err != nil {
		return err
	}
	out := make([]packet, 0, len(cs))
	for _, c := range cs {
		p, err := s.packet(r, c)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
	return nil
}

func (s *Server) agentConversation(w http.ResponseWriter, r *http.Request, _ string) error {
	c, err := s.o.Store.Conversation(r.Context(), store.ConversationID(r.PathValue("id")))
	if err != nil {
		return err
	}
	p, err := s.packet(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request, agent string) error {
	id := store.ConversationID(r.PathValue("id"))
	c, err := s.o.Store.Conversation(r.Context(), id)
	if err != nil {
		return err
	}
	if err := s.o.Store.Claim(r.Context(), id, agent); err != nil {
		return err
	}
	if c.Agent != agent { // not a repeated claim
		s.hub.publish(event{Type: "agent_joined", ConversationID: string(id), Agent: agent}, true)
		s.hub.publish(event{Type: "queue", ConversationID: string(id)}, true)
	}
	writeJSON(w, http.StatusOK, map[string]string{"state": string(store.StateHuman), "agent": agent})
	return nil
}

func (s *Server) agentMessage(w http.ResponseWriter, r *http.Request, agent string) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		return errorf(http.StatusBadRequest, "text is empty")
	case utf8.RuneCountInString(text) > s.o.Live().Web.MaxMessageChars:
		return errorf(http.StatusRequestEntityTooLarge, "a message holds at most %d characters", s.o.Live().Web.MaxMessageChars)
	}
	id := store.ConversationID(r.PathValue("id"))
	c, err := s.o.Store.Conversation(r.Context(), id)
	if err != nil {
		return err
	}
	if c.State != store.StateHuman || c.Agent != agent {
		return errorf(http.StatusConflict, "claim the conversation before replying")
	}
	m, _, err := s.o.Store.AppendMessage(r.Context(), store.Message{ConversationID: id, Role: store.RoleAgent, Text: text})
	if err != nil {
		return err
	}
	mj := toMessage(m)
	s.hub.publish(event{Type: "message", ConversationID: string(id), Message: &mj, Agent: agent}, true)
	writeJSON(w, http.StatusAccepted, map[string]any{"message": mj})
	return nil
}

func (s *Server) resolve(w http.ResponseWriter, r *http.Request, agent string) error {
	return s.close(w, r, agent, s.o.Store.Resolve, "resolved", store.StateResolved)
}

func (s *Server) returnToAI(w http.ResponseWriter, r *http.Request, agent string) error {
	return s.close(w, r, agent, s.o.Store.ReturnToAI, "returned_to_ai", store.StateAI)
}

// close ends the humans' part of a conversation, one way or the other.
func (s *Server) close(w http.ResponseWriter, r *http.Request, agent string,
	change func(context.Context, store.ConversationID, string) error, evType string, state store.State) error {
	id := store.ConversationID(r.PathValue("id"))
	if err := change(r.Context(), id, agent); err != nil {
		return err
	}
	s.hub.publish(event{Type: evType, ConversationID: string(id), Agent: agent}, true)
	s.hub.publish(event{Type: "queue", ConversationID: string(id)}, true)
	writeJSON(w, http.StatusOK, map[string]string{"state": string(state)})
	return nil
}
