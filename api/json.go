package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"

	"switchboard/store"
)

// MaxBody bounds every request body.
const MaxBody = 64 << 10

// Error is an error with the HTTP status and the message a client sees.
type Error struct {
	Status int
	Msg    string
	// Extra fields merged into the JSON body (e.g. the holder of a claim).
	Extra map[string]string
}

func (e *Error) Error() string   { return e.Msg }
func (e *Error) HTTPStatus() int { return e.Status }

// Errorf is an Error with a formatted message.
func Errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// WriteError maps any error to its status in one place. Store errors carry
// their meaning; anything else is a 500 that is logged, never shown, so no
// internal detail reaches a client.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
		if e.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		body := map[string]string{"error": e.Msg}
		for k, v := range e.Extra {
			body[k] = v
		}
		WriteJSON(w, e.Status, body)
	case errors.Is(err, store.ErrNotFound):
		WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no such conversation"})
	case errors.Is(err, store.ErrAlreadyClaimed):
		WriteJSON(w, http.StatusConflict, map[string]string{"error": "taken by another agent"})
	case errors.Is(err, store.ErrNotHolder):
		WriteJSON(w, http.StatusConflict, map[string]string{"error": "another agent holds this conversation"})
	case errors.Is(err, store.ErrInvalid):
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid input"})
	case errors.Is(err, store.ErrWrongState):
		WriteJSON(w, http.StatusConflict, map[string]string{"error": "the conversation is not in a state that allows this"})
	default:
		log.Error("request failed", "path", r.URL.Path, "error", err)
		WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
}

// WriteJSON writes v as the JSON body with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to tell it
}

// Decode reads a bounded JSON body strictly: a JSON content type (415
// otherwise), known fields only, one value and nothing after it.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return Errorf(http.StatusUnsupportedMediaType, "send the body as application/json (Content-Type)")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", MaxBody)
		}
		return Errorf(http.StatusBadRequest, "invalid JSON: %v", err)
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "invalid JSON: more than one value in the body")
	}
	return nil
}

// PublicError is what a client may be told of err.
func PublicError(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	if errors.Is(err, store.ErrNotFound) {
		return "no such conversation"
	}
	return "internal error"
}
