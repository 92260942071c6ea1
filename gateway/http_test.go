package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// syncBuffer is a log destination the test reads while the gateway writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The start-up log says where the agent console is, and where its token is
// when the gateway generated it, but never the token.
func TestStartupLogSaysWhereTheConsoleIs(t *testing.T) {
	for _, tc := range []struct {
		name, envToken string
		wantFile       bool
	}{
		{"generated token", "", true},
		{"token from the environment", "startup-log-test-token", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SWITCHBOARD_AGENT_TOKEN", tc.envToken)
			var logs syncBuffer
			data := t.TempDir()
			g, err := New(t.Context(), Options{ConfigPath: fixture(t), HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DataDir: data},
				slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Listen(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx) }()
			defer func() { cancel(); <-done }()
			want := "agent console: http://" + g.HTTPAddr() + "/agent"
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), want); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no %q in the log:\n%s", want, logs.String())
				}
			}
			file := filepath.Join(data, "agent-token")
			if got := strings.Contains(logs.String(), "(token in "+file+")"); got != tc.wantFile {
				t.Errorf("log names the token file %s: %v, want %v\n%s", file, got, tc.wantFile, logs.String())
			}
			token := tc.envToken
			if tc.wantFile {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				token = strings.TrimSpace(string(b))
			}
			if strings.Contains(logs.String(), token) {
				t.Errorf("the token is in the log:\n%s", logs.String())
			}
			if n := strings.Count(logs.String(), "agent console:"); n != 1 {
				t.Errorf("the console's address is logged %d times, want once", n)
			}
		})
	}
}

// A gateway listening on every address is reached at localhost.
func TestWhereToLookNamesLocalhostForEveryAddress(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	g := &Gateway{httpLn: ln}
	if got, want := g.whereToLook(), "agent console: http://localhost:"+port+"/agent"; got != want {
		t.Errorf("whereToLook() = %q, want %q", got, want)
	}
}
