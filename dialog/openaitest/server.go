// Package openaitest runs, for tests, a local HTTP server that speaks
// OpenAI's wire format for chat completions, transcriptions and speech, so
// the real github.com/sashabaranov/go-openai client can be pointed at it.
//
// It owns the wire format and the scripting of answers (content, tool calls,
// delays, stalls, errors); it must not interpret what it is sent beyond what
// OpenAI itself checks, and it never reaches the network beyond loopback.
//
// Differences from the real API a test may trip over are kept few and
// documented where they are: see ChatReply, QueueTranscription and SetSpeech.
package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// Server is an httptest server speaking OpenAI's HTTP API.
//
// Every request must carry "Authorization: Bearer <any key>", as OpenAI
// requires; without one the answer is OpenAI's 401.
type Server struct {
	URL string // base URL for go-openai's config.BaseURL, ending in /v1

	srv      *httptest.Server
	done     chan struct{} // closed at cleanup: ends stalls and delays
	requests atomic.Int64
	ids      atomic.Int64

	mu             sync.Mutex
	chatQueue      []ChatReply
	chatRequests   []openai.ChatCompletionRequest
	transcripts    []transcription
	audioFiles     [][]byte
	speech         speechAudio
	speechRequests []openai.CreateSpeechRequest
	lastRetryAfter string
}

// New starts a Server; it is closed in t.Cleanup. A path or method the
// server does not serve gets OpenAI's 404 JSON error.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{done: make(chan struct{}), speech: speechAudio{rate: openAIPCMRate}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.close)
	return s
}

// Config returns go-openai's default config aimed at this server, with the
// server's own HTTP client, whose idle connections close with the server.
func (s *Server) Config() openai.ClientConfig {
	cfg := openai.DefaultConfig("test-key")
	cfg.BaseURL = s.URL
	cfg.HTTPClient = s.srv.Client()
	return cfg
}

// Requests returns how many HTTP requests reached the server, on any path
// and whatever the answer, so a test can count a client's retries.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// LastRetryAfter returns the Retry-After header of the most recent error
// answer, or "" if it had none. go-openai's *APIError does not carry response
// headers, so a caller that wants the header must read it itself, from an
// HTTPDoer wrapped around its HTTP client (ClientConfig.HTTPClient).
func (s *Server) LastRetryAfter() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRetryAfter
}

// close ends stalled and delayed handlers first: httptest.Server.Close waits
// for every outstanding request.
func (s *Server) close() {
	close(s.done)
	s.srv.Close()
}

// serve routes by hand rather than with http.ServeMux, whose 405 answers
// are plain text: OpenAI answers any unknown method or path with a JSON 404.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	w.Header().Set("X-Request-Id", fmt.Sprintf("req_openaitest%d", n))
	var handle http.HandlerFunc
	switch r.Method + " " + r.URL.Path {
	case "POST /v1/chat/completions":
		handle = s.handleChat
	case "POST /v1/audio/transcriptions":
		handle = s.handleTranscription
	case "POST /v1/audio/speech":
		handle = s.handleSpeech
	default:
		s.writeError(w, http.StatusNotFound, invalid(fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), ""))
		return
	}
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(key) == "" {
		s.writeError(w, http.StatusUnauthorized, invalid("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", ""))
		return
	}
	handle(w, r)
}

// apiError is the body of every OpenAI error answer.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    any     `json:"code"`
}

// invalid is the error OpenAI gives a request it refuses; param, if not
// empty, names the field at fault.
func invalid(msg, param string) apiErrorBody {
	e := apiErrorBody{Message: msg, Type: "invalid_request_error"}
	if param != "" {
		e.Param = &param
	}
	return e
}

func (s *Server) writeError(w http.ResponseWriter, status int, e apiErrorBody) {
	s.mu.Lock()
	s.lastRetryAfter = w.Header().Get("Retry-After")
	s.mu.Unlock()
	writeJSON(w, status, apiError{Error: e})
}

// writeStatusError answers a scripted failure status with the type, code
// and message OpenAI uses for it.
func (s *Server) writeStatusError(w http.ResponseWriter, status int, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	typ, code, msg := "invalid_request_error", any(nil), http.StatusText(status)
	switch {
	case status == http.StatusUnauthorized:
		code, msg = "invalid_api_key", "Incorrect API key provided."
	case status == http.StatusNotFound:
		code, msg = "model_not_found", "The model does not exist or you do not have access to it."
	case status == http.StatusTooManyRequests:
		typ, code, msg = "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."
	case status == http.StatusServiceUnavailable:
		typ, msg = "server_error", "The engine is currently overloaded, please try again later."
	case status >= 500:
		typ, msg = "server_error", "The server had an error while processing your request. Sorry about that!"
	}
	s.writeError(w, status, apiErrorBody{Message: msg, Type: typ, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("openaitest: encoding %T: %v", v, err)) // our own types: a bug here
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b) // a client that went away is not the server's error
}

func (s *Server) nextID(prefix string) string {
	return fmt.Sprintf("%s-openaitest%d", prefix, s.ids.Add(1))
}
