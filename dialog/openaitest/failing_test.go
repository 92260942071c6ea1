package openaitest

import (
	"net/http"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// TestFailingEchoesWhatItWasSent: the client gets the status and the body
// made from its own Authorization header, as JSON when it is JSON.
func TestFailingEchoesWhatItWasSent(t *testing.T) {
	srv, requests := Failing(t, http.StatusUnauthorized, func(auth string) string {
		return `{"error":{"message":"refused ` + auth + `","type":"invalid_request_error"}}`
	})
	cfg := openai.DefaultConfig("sk-echo-me")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = srv.Client()
	_, err := openai.NewClientWithConfig(cfg).ListModels(testContext(t))
	if apiErr := asAPIError(t, err); apiErr.HTTPStatusCode != http.StatusUnauthorized ||
		!strings.Contains(apiErr.Message, "refused Bearer sk-echo-me") {
		t.Errorf("error = %+v, want the 401 echoing the key", apiErr)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests counted, want 1", n)
	}
}
