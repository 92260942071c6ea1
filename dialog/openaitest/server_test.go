package openaitest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newClient is go-openai as a caller configures it: the default config with
// the base URL swapped.
func newClient(s *Server) *openai.Client {
	cfg := openai.DefaultConfig("test-key")
	cfg.BaseURL = s.URL
	return openai.NewClientWithConfig(cfg)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// asAPIError asserts err is an *openai.APIError and returns it.
func asAPIError(t *testing.T, err error) *openai.APIError {
	t.Helper()
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T), want *openai.APIError", err, err)
	}
	return apiErr
}

func TestUnknownPathGetsOpenAIShaped404(t *testing.T) {
	s := New(t)
	ctx := testContext(t)

	_, err := newClient(s).ListModels(ctx)
	if apiErr := asAPIError(t, err); apiErr.HTTPStatusCode != http.StatusNotFound || apiErr.Type != "invalid_request_error" ||
		apiErr.Message != "Invalid URL (GET /v1/models)" {
		t.Errorf("ListModels error = %+v, want OpenAI's 404 for GET /v1/models", apiErr)
	}

	// A known path with the wrong method is also OpenAI's JSON 404, not
	// net/http's plain-text 405.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/chat/completions", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error map[string]any `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("404 body is not JSON: %v", err)
	}
	for _, key := range []string{"message", "type", "param", "code"} {
		if _, ok := body.Error[key]; !ok {
			t.Errorf("404 error object has no %q: %v", key, body.Error)
		}
	}
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /v1/chat/completions = %d %q, want 404 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := s.Requests(); got != 2 {
		t.Errorf("Requests() = %d, want 2", got)
	}
}

func TestMissingAPIKeyIsRefused(t *testing.T) {
	s := New(t)
	cfg := openai.DefaultConfig("")
	cfg.BaseURL = s.URL
	_, err := openai.NewClientWithConfig(cfg).CreateChatCompletion(testContext(t), openai.ChatCompletionRequest{
		Model: openai.GPT4oMini, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
	})
	if apiErr := asAPIError(t, err); apiErr.HTTPStatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", apiErr.HTTPStatusCode)
	}
	if got := s.ChatRequests(); len(got) != 0 {
		t.Errorf("an unauthenticated request was recorded: %+v", got)
	}
}

// retryAfterDoer shows how a caller reads Retry-After, which go-openai's
// *APIError does not carry: wrap the HTTP client and leave the header in a
// slot the request's context carries, so concurrent calls do not mix.
type retryAfterDoer struct{ next openai.HTTPDoer }

type retryAfterSlot struct{}

func (d retryAfterDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.next.Do(req)
	if slot, ok := req.Context().Value(retryAfterSlot{}).(*string); ok && resp != nil {
		*slot = resp.Header.Get("Retry-After")
	}
	return resp, err
}

func TestRetryAfterReadableThroughHTTPDoer(t *testing.T) {
	s := New(t)
	s.QueueChat(ChatReply{Status: http.StatusTooManyRequests, RetryAfter: "2"})
	cfg := s.Config()
	cfg.HTTPClient = retryAfterDoer{next: cfg.HTTPClient}
	var retryAfter string
	ctx := context.WithValue(testContext(t), retryAfterSlot{}, &retryAfter)

	_, err := openai.NewClientWithConfig(cfg).CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{
		Model: openai.GPT4oMini, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
	})
	if apiErr := asAPIError(t, err); apiErr.HTTPStatusCode != http.StatusTooManyRequests {
		t.Fatalf("status = %d, want 429", apiErr.HTTPStatusCode)
	}
	if retryAfter != "2" || s.LastRetryAfter() != "2" {
		t.Errorf("Retry-After seen by the doer %q, by the server %q; want 2", retryAfter, s.LastRetryAfter())
	}
}

// TestCleanupEndsAStallTheClientNeverLeaves proves a test that forgets to
// cancel a stalled stream still finishes: the server's cleanup ends the
// handler instead of waiting for it forever.
func TestCleanupEndsAStallTheClientNeverLeaves(t *testing.T) {
	var stream *openai.ChatCompletionStream
	t.Run("stall", func(t *testing.T) {
		s := New(t)
		s.QueueChat(ChatReply{Stall: true})
		var err error
		stream, err = newClient(s).CreateChatCompletionStream(context.Background(), openai.ChatCompletionRequest{
			Model: openai.GPT4oMini, Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("first chunk: %v", err)
		}
	})
	defer stream.Close()
	// The server is gone and the handler returned: the stream ends, without
	// [DONE] or a finish reason, and go-openai reports a plain EOF.
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv after cleanup = %v, want io.EOF", err)
	}
}
