package webchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"switchboard/store"
)

// maxBody bounds every request body.
const maxBody = 64 << 10

type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string   { return e.msg }
func (e *apiError) HTTPStatus() int { return e.status }

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// writeError maps any error to its status in one place; store errors carry
// their meaning, anything else is a 500 that is logged, not shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var api *apiError
	switch {
	case errors.As(err, &api):
		if api.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeJSON(w, api.status, map[string]string{"error": api.msg})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such conversation"})
	case errors.Is(err, store.ErrAlreadyClaimed):
		writeJSON(w, http.StatusConflict, map[string]string{"error": "taken by another agent"})
	case errors.Is(err, store.ErrWrongState), errors.Is(err, store.ErrNotHolder):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		s.o.Log.Error("web chat request failed", "path", r.URL.Path, "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to tell it
}

// decode reads a bounded JSON body strictly.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", maxBody)
		}
		return errorf(http.StatusBadRequest, "invalid JSON: %v", err)
	}
	return nil
}

// messageJSON is a message as the API shows it.
type messageJSON struct {
	ID        int64     `json:"id"`
	Role      string    `json:"role"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

func toMessage(m store.Message) messageJSON {
	return messageJSON{ID: m.ID, Role: string(m.Role), Text: m.Text, CreatedAt: m.CreatedAt}
}

func toMessages(ms []store.Message) []messageJSON {
	out := make([]messageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, toMessage(m))
	}
	return out
}

// handoffJSON is a handoff as the API shows it.
type handoffJSON struct {
	Trigger   string    `json:"trigger"`
	Reason    string    `json:"reason"`
	Topic     string    `json:"topic"`
	Summary   string    `json:"summary"`
	Sentiment float64   `json:"sentiment"`
	Status    string    `json:"status"`
	Target    string    `json:"target"`
	Agent     string    `json:"agent"`
	CreatedAt time.Time `json:"created_at"`
}

func toHandoff(h store.Handoff) *handoffJSON {
	return &handoffJSON{Trigger: h.Trigger, Reason: h.Reason, Topic: h.Topic, Summary: h.Summary, Sentiment: h.Sentiment,
		Status: h.Status, Target: h.Target, Agent: h.Agent, CreatedAt: h.CreatedAt}
}

// latestHandoff is the conversation's most recent live handoff; follow-ups
// (no transfer) are not handoffs to a person.
func latestHandoff(hs []store.Handoff) *handoffJSON {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Status != store.HandoffFollowUp {
			return toHandoff(hs[i])
		}
	}
	return nil
}
