package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard/web"
)

// apiMux is a mux laid out like the gateway's: API routes and the pages'
// catch-all.
func apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
	mux.HandleFunc("GET /api/v1/agent/queue", ok)
	mux.HandleFunc("POST /api/v1/conversations", ok)
	mux.HandleFunc("OPTIONS /api/v1/conversations", ok)
	mux.HandleFunc("GET /api/v1/conversations/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	mux.HandleFunc("GET /healthz", ok)
	mux.Handle("GET /", web.Handler())
	return mux
}

// Unknown API paths and wrong methods on API paths answer JSON errors, as
// every other API error does; the pages keep their own answers.
func TestAPIErrorsAreJSON(t *testing.T) {
	h := apiErrors(apiMux())
	tests := []struct {
		method, path string
		status       int
		allow        string // for 405
		json         bool
		contains     string
	}{
		{"GET", "/api/v1/nope", 404, "", true, `"error":"no such API path"`},
		{"POST", "/api/v1/nope", 404, "", true, `"error":"no such API path"`},
		{"GET", "/api/v2/conversations", 404, "", true, `"error":"no such API path"`},
		{"GET", "/api/", 404, "", true, `"error":"no such API path"`},
		{"DELETE", "/api/v1/agent/queue", 405, "GET, HEAD", true, `"error":"method DELETE not allowed`},
		{"GET", "/api/v1/conversations", 405, "POST, OPTIONS", true, `"error":"method GET not allowed`},
		{"PUT", "/api/v1/conversations/c1", 405, "GET, HEAD", true, `"error":`},
		// Routes still work, path values included.
		{"GET", "/api/v1/conversations/c1", 200, "", true, `"id":"c1"`},
		{"GET", "/api/v1/agent/queue", 200, "", true, `"status":"ok"`},
		// Outside /api/ nothing changes: the pages answer as before.
		{"GET", "/nope", 404, "", false, "404 page not found"},
		{"POST", "/agent", 405, "GET, HEAD", false, ""},
		{"GET", "/healthz", 200, "", true, `"status":"ok"`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("Allow"); tt.allow != "" && got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			isJSON := rec.Header().Get("Content-Type") == "application/json"
			if isJSON != tt.json {
				t.Errorf("Content-Type %q; want JSON: %v", rec.Header().Get("Content-Type"), tt.json)
			}
			if tt.json && !json.Valid(rec.Body.Bytes()) {
				t.Errorf("body is not JSON: %s", rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body %s lacks %s", rec.Body, tt.contains)
			}
		})
	}
}

// The running gateway's API answers in JSON for what it does not serve.
func TestGatewayAPIErrorsAreJSON(t *testing.T) {
	g, stop := start(t, fixture(t))
	defer stop()
	base := "http://" + g.HTTPAddr()
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/api/v1/no/such/path", http.StatusNotFound, ""},
		{http.MethodDelete, "/api/v1/agent/queue", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/api/v1/agent/conversations/c1/claim", http.StatusMethodNotAllowed, "POST"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow {
			body, _ := io.ReadAll(resp.Body)
			t.Errorf("%s %s: %d, Allow %q, %s; want %d, Allow %q", tt.method, tt.path, resp.StatusCode,
				resp.Header.Get("Allow"), body, tt.status, tt.allow)
		} else {
			checkJSONError(t, resp)
		}
		resp.Body.Close()
	}
}
