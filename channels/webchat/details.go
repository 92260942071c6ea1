package webchat

import (
	"net/http"
	"net/mail"
	"strings"

	"switchboard/api"
	"switchboard/events"
	"switchboard/store"
)

// details are what a customer tells the humans about themselves (the
// widget's form). They are stored as a system message of the conversation,
// so they stay in the transcript, and parsed back into the context packet.
type details struct {
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	OrderNumber string `json:"order_number,omitempty"`
}

const detailsPrefix = "Customer details: "

var detailFields = []struct {
	label string
	get   func(*details) *string
	max   int
}{
	{"Name", func(d *details) *string { return &d.Name }, 200},
	{"Email", func(d *details) *string { return &d.Email }, 200},
	{"Phone", func(d *details) *string { return &d.Phone }, 50},
	{"Order number", func(d *details) *string { return &d.OrderNumber }, 50},
}

func (d *details) validate() error {
	any := false
	for _, f := range detailFields {
		v := strings.TrimSpace(*f.get(d))
		if strings.ContainsAny(v, "\n\r;") {
			return api.Errorf(http.StatusBadRequest, "%s holds a line break or semicolon", strings.ToLower(f.label))
		}
		if len(v) > f.max {
			return api.Errorf(http.StatusBadRequest, "%s is longer than %d characters", strings.ToLower(f.label), f.max)
		}
		*f.get(d) = v
		any = any || v != ""
	}
	if !any {
		return api.Errorf(http.StatusBadRequest, "give at least one detail")
	}
	if d.Email != "" {
		if _, err := mail.ParseAddress(d.Email); err != nil {
			return api.Errorf(http.StatusBadRequest, "email is not an address")
		}
	}
	return nil
}

func (d details) text() string {
	var parts []string
	for _, f := range detailFields {
		if v := *f.get(&d); v != "" {
			parts = append(parts, f.label+": "+v)
		}
	}
	return detailsPrefix + strings.Join(parts, "; ")
}

// latestDetails reads the newest details message of a transcript.
func latestDetails(ms []store.Message) *details {
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		rest, ok := strings.CutPrefix(m.Text, detailsPrefix)
		if m.Role != store.RoleSystem || !ok {
			continue
		}
		d := &details{}
		for _, part := range strings.Split(rest, "; ") {
			label, v, _ := strings.Cut(part, ": ")
			for _, f := range detailFields {
				if f.label == label {
					*f.get(d) = v
				}
			}
		}
		return d
	}
	return nil
}

func (s *Server) postDetails(w http.ResponseWriter, r *http.Request, c store.Conversation) error {
	var d details
	if err := api.Decode(w, r, &d); err != nil {
		return err
	}
	if !s.limits.allowConversation(string(c.ID), s.o.Live().Web.RateLimit.PerConversation) {
		return api.Errorf(http.StatusTooManyRequests, "too many requests; slow down")
	}
	if err := d.validate(); err != nil {
		return err
	}
	m, _, err := s.o.Store.AppendMessage(r.Context(), store.Message{ConversationID: c.ID, Role: store.RoleSystem, Text: d.text()})
	if err != nil {
		return err
	}
	if err := s.o.Bus.Publish(r.Context(), events.Event{Kind: events.Message, ConversationID: c.ID, State: c.State, MessageID: m.ID}); err != nil {
		s.o.Log.Warn("event not published", "conversation_id", c.ID, "error", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
