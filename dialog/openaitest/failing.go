package openaitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Failing starts a server that answers every request, on any path, with
// status and the body answer makes from the request's Authorization
// header: a provider, or a proxy in front of one, that fails and echoes
// what it was sent, which Server does not script. A body that starts with
// "{" goes as JSON. The server is closed in t.Cleanup; the count is of the
// requests it has answered.
func Failing(t testing.TB, status int, answer func(auth string) string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		body := answer(r.Header.Get("Authorization"))
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}
