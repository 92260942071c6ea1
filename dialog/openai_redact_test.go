package dialog_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/dialog/openaitest"
)

// A provider that echoes the API key in its error must not put the key in
// the gateway's log, nor in the errors it returns: neither the configured
// key, nor a bearer token, nor anything shaped like a key.
func TestOpenAIProviderErrorsAreLoggedWithoutCredentials(t *testing.T) {
	const sk = "sk-proj-Zq81fakeTestKey0123456789abcdef"
	const plain = "k3y-0f-a-local-server-42" // not shaped like a key: only known as the configured one
	tests := []struct {
		name     string
		key      string
		status   int
		answer   func(auth string) string
		secrets  []string // must not appear
		requests int      // the status still decides retries
	}{
		{"JSON message echoing the header", sk, 401, func(auth string) string {
			return fmt.Sprintf(`{"error":{"message":"bad credentials in Authorization: %s","type":"invalid_request_error","code":"invalid_api_key"}}`, auth)
		}, []string{sk, "Zq81fakeTestKey"}, 1},
		{"plain text headers dump", sk, 401, func(auth string) string {
			return "401 Unauthorized\nHost: api\nauthorization: " + auth + "\nX-Api-Key: other-secret-value\n"
		}, []string{sk, "Zq81fakeTestKey", "other-secret-value"}, 1},
		{"partly masked key", sk, 401, func(string) string {
			return `{"error":{"message":"Incorrect API key provided: sk-proj-Zq81************cdef. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error"}}`
		}, []string{"Zq81", "cdef"}, 1},
		{"bare configured key from a proxy, retried", plain, 503, func(auth string) string {
			return "upstream refused token " + strings.TrimPrefix(auth, "Bearer ")
		}, []string{plain}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(testKeyEnv, tt.key)
			srv, requests := openaitest.Failing(t, tt.status, tt.answer)
			cfg := dialogtest.Shipped(t)
			kb, err := dialog.LoadKnowledge(cfg.ResolvePath(cfg.Responder.Embedded.Knowledge))
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			ai, err := dialog.NewOpenAI(config.OpenAIResponder{
				BaseURL: srv.URL + "/v1", Model: "gpt-test", APIKeyEnv: testKeyEnv, Timeout: 5 * time.Second,
				MaxRetries: 2, HistoryTokens: 4000,
			}, dialog.OpenAIInputs{
				Knowledge: kb, Handoff: cfg.Handoff, Fallback: dialog.NewEmbedded(kb, dialog.EmbeddedOptions{}),
				HTTPClient: srv.Client(), Clock: &fakeClock{now: time.Now()},
				Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			if err != nil {
				t.Fatal(err)
			}
			reply, err := ai.Respond(t.Context(), dialog.Request{Text: returnsQuestion})
			if err != nil || !reply.Fallback {
				t.Fatalf("Respond = %+v, %v; want the fallback's reply", reply, err)
			}
			_, sumErr := ai.HandoffSummary(t.Context(), dialog.SummaryRequest{Why: "the customer asked for a person",
				Turns: []dialog.Turn{{Role: dialog.RoleCustomer, Text: "a person please"}}})
			if sumErr == nil {
				t.Fatal("HandoffSummary: no error from a failing provider")
			}
			logged := logs.String()
			if !strings.Contains(logged, "AI provider failed") || !strings.Contains(logged, "[redacted]") {
				t.Errorf("log lacks the failure with its redacted error:\n%s", logged)
			}
			for _, text := range []string{logged, sumErr.Error()} {
				for _, secret := range tt.secrets {
					if strings.Contains(text, secret) {
						t.Errorf("%q leaked into:\n%s", secret, text)
					}
				}
			}
			if n := int(requests.Load()); n != tt.requests+1 {
				t.Errorf("%d requests, want %d for the reply and 1 for the summary", n, tt.requests)
			}
		})
	}
}
