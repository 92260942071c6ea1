package webchat

import (
	"net/http"

	"switchboard/handoff"
	"switchboard/store"
)

// details and latestDetails keep agent.go's packet compiling until the
// desk replaces it; the details themselves are handoff's.
type details = handoff.CustomerDetails

func latestDetails(ms []store.Message) *details { return handoff.LatestDetails(ms) }

// postDetails stores what the customer tells the humans about themselves
// (the widget's form) as a system message of the conversation, so it stays
// in the transcript and reaches the context packet.
func (s *Server) postDetails(w http.ResponseWriter, r *http.Request, c store.Conversation) error {
	var d handoff.CustomerDetails
	if err := decode(w, r, &d); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return errorf(http.StatusBadRequest, "%s", err)
	}
	m, _, err := s.o.Store.AppendMessage(r.Context(), store.Message{ConversationID: c.ID, Role: store.RoleSystem, Text: d.Text()})
	if err != nil {
		return err
	}
	mj := toMessage(m)
	s.hub.publish(event{Type: "message", ConversationID: string(c.ID), Message: &mj}, true)
	s.hub.publish(event{Type: "queue", ConversationID: string(c.ID)}, true)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
