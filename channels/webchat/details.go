package webchat

import (
	"context"
	"net/http"

	"switchboard/api"
	"switchboard/events"
	"switchboard/handoff"
	"switchboard/store"
)

// postDetails stores what the customer tells the humans about themselves
// (the widget's form) as a system message of the conversation, so it stays
// in the transcript; handoff.BuildPacket reads it back into the context
// packet.
func (s *Server) postDetails(w http.ResponseWriter, r *http.Request, c store.Conversation) error {
	var d handoff.CustomerDetails
	if err := api.Decode(w, r, &d); err != nil {
		return err
	}
	if !s.limits.allowConversation(string(c.ID), s.o.Live().Web.RateLimit.PerConversation) {
		return api.Errorf(http.StatusTooManyRequests, "too many requests; slow down")
	}
	if err := d.Validate(); err != nil {
		return api.Errorf(http.StatusBadRequest, "%s", err)
	}
	m, _, err := s.o.Store.AppendMessage(r.Context(), store.Message{ConversationID: c.ID, Role: store.RoleSystem, Text: d.Text()})
	if err != nil {
		return err
	}
	if err := s.o.Bus.Publish(context.WithoutCancel(r.Context()), events.Event{Kind: events.Message, ConversationID: c.ID, State: c.State, MessageID: m.ID}); err != nil {
		s.o.Log.Warn("event not published", "conversation_id", c.ID, "error", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
