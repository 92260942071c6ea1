package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestRoutesServeFilesWithTypeAndPolicy(t *testing.T) {
	h := Handler()
	tests := []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `id="demo-contact-form"`},
		{"/widget.js", "text/javascript; charset=utf-8", "window.Switchboard"},
		{"/agent", "text/html; charset=utf-8", `id="agent-token"`},
		{"/settings", "text/html; charset=utf-8", "/static/settings.js"},
		{"/static/widget.css", "text/css; charset=utf-8", ".sb-launcher"},
		{"/static/console.css", "text/css; charset=utf-8", ".queue-item"},
		{"/static/demo.css", "text/css; charset=utf-8", ".handoff-banner"},
		{"/static/demo.js", "text/javascript; charset=utf-8", "demo-handoff-banner"},
		{"/static/agent.js", "text/javascript; charset=utf-8", "/api/v1/agent/queue"},
		{"/static/insights.js", "text/javascript; charset=utf-8", "/api/v1/agent/insights"},
		{"/static/settings.js", "text/javascript; charset=utf-8", "/api/v1/agent/settings"},
		{"/static/console.js", "text/javascript; charset=utf-8", "switchboard.agentToken"},
		{"/static/widget.js", "text/javascript; charset=utf-8", "switchboard.conversation"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, tt.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200", tt.path, rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.contentType)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("GET %s: Content-Security-Policy %q, want %q", tt.path, got, ContentSecurityPolicy)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("GET %s: Cache-Control %q, want no-cache", tt.path, got)
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("GET %s: body lacks %q", tt.path, tt.contains)
			}
		})
	}
}

func TestUnknownPathsAreNotFound(t *testing.T) {
	h := Handler()
	for _, path := range []string{
		"/nope", "/index.html", "/agent/", "/agent.html", "/settings/x", "/widget.css",
		"/static/", "/static", "/static/missing.js", "/static/../embed.go",
		"/static//widget.js", "/static/./widget.js", "/api/v1/conversations",
	} {
		t.Run(path, func(t *testing.T) {
			if rec := get(t, h, http.MethodGet, path); rec.Code != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, rec.Code)
			}
		})
	}
}

func TestOnlyGetAndHeadAreAllowed(t *testing.T) {
	h := Handler()
	if rec := get(t, h, http.MethodHead, "/agent"); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD /agent: status %d with %d body bytes, want 200 and none", rec.Code, rec.Body.Len())
	}
	rec := get(t, h, http.MethodPost, "/widget.js")
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /widget.js: status %d, Allow %q; want 405 and GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
}

// The CSP forbids inline script and style, so a page that had them would
// silently lose its behaviour or look in the browser.
func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	for _, page := range []string{"index.html", "agent.html", "settings.html"} {
		body, err := fs.ReadFile(files, "static/"+page)
		if err != nil {
			t.Fatal(err)
		}
		html := string(body)
		if loc := inlineScript.FindStringIndex(html); loc != nil {
			t.Errorf("%s: inline script at byte %d", page, loc[0])
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1) {
			if !strings.Contains(tag, `src="`) {
				t.Errorf("%s: script tag without src: %s", page, tag)
			}
		}
		for _, bad := range []string{"<style", " style=", " onclick=", " onload=", " onsubmit=", "javascript:"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s: contains %q, which the CSP blocks", page, bad)
			}
		}
	}
}

// Every local file a page references must be served, or the page breaks.
func TestPagesReferenceServedAssets(t *testing.T) {
	h := Handler()
	ref := regexp.MustCompile(`(?:src|href)="(/[^"#?]*)"`)
	for _, page := range []string{"/", "/agent", "/settings"} {
		body := get(t, h, http.MethodGet, page).Body.String()
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			if rec := get(t, h, http.MethodGet, m[1]); rec.Code != http.StatusOK {
				t.Errorf("%s references %s, which answers %d", page, m[1], rec.Code)
			}
		}
	}
}
