package web

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
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

// cspDirective returns the sources of one directive of policy, or nil.
func cspDirective(policy, name string) []string {
	for _, d := range strings.Split(policy, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == name {
			return f[1:]
		}
	}
	return nil
}

// Other sites must not frame the console or the settings (clickjacking), nor
// the demo page; and the pages may connect to their own origin only.
func TestPagesRefuseFramingAndForeignConnections(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/agent", "/settings"} {
		rec := get(t, h, http.MethodGet, path)
		csp := rec.Header().Get("Content-Security-Policy")
		if got := cspDirective(csp, "frame-ancestors"); len(got) != 1 || got[0] != "'none'" {
			t.Errorf("GET %s: frame-ancestors %q, want 'none' (policy %q)", path, got, csp)
		}
		if got := rec.Header().Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q, want DENY", path, got)
		}
		if got := cspDirective(csp, "connect-src"); len(got) != 1 || got[0] != "'self'" {
			t.Errorf("GET %s: connect-src %q, want only 'self'", path, got)
		}
	}
}

// chromium finds the browser, or skips (fails under SWITCHBOARD_NO_SKIP,
// which CI sets).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SWITCHBOARD_NO_SKIP") != "" {
		t.Fatal("no Chromium on this machine (Debian package chromium); CI must not skip this test")
	}
	t.Skip("no Chromium on this machine; install the Debian package chromium")
	return ""
}

// browser starts a headless Chromium with a profile of its own, kept off
// the network.
func browser(t *testing.T) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "switchboard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: Chromium's helpers may still write to it for a moment.
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.UserDataDir(profile))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second) // a guard against a hang
	t.Cleanup(cancelT)
	return ctx
}

// openSocket opens a WebSocket to url and leaves in window.results[key]
// "open", "error" or "blocked" (the constructor refused).
const openSocket = `(key, url) => {
	window.results = window.results || {};
	const done = (v) => { window.results[key] = v; };
	let s;
	try { s = new WebSocket(url); } catch (e) { done("blocked"); return; }
	s.onopen = () => { s.close(); done("open"); };
	s.onerror = () => done("error");
}`

// frameOf frames path, of the page's own origin, and leaves in
// window.results[key] whether the framed page loaded or was refused.
const frameOf = `(key, path) => {
	window.results = window.results || {};
	const f = document.createElement("iframe");
	f.onload = () => {
		let doc = null;
		try { doc = f.contentDocument; } catch (e) {}
		window.results[key] = doc && doc.querySelector("script[src]") ? "loaded" : "refused";
	};
	f.src = path;
	document.body.appendChild(f);
}`

// run evaluates script with its arguments and waits for window.results[key].
func run(script, key, arg string, res *string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Evaluate("("+script+")("+quote(key)+", "+quote(arg)+")", nil),
		chromedp.Poll("window.results && window.results["+quote(key)+"]", res),
	}
}

// In a real browser the policy lets the console's WebSocket reach its own
// origin, stops one to another origin, and refuses to be framed even by a
// page of its own origin.
func TestBrowserPolicyAllowsOwnSocketOnly(t *testing.T) {
	ctx := browser(t)
	mux := http.NewServeMux()
	mux.Handle("GET /", Handler())
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return // the browser gave up; the test sees it on its side
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	own := "ws://" + srv.Listener.Addr().String() + "/ws"
	// localhost is the same server under another origin.
	foreign := strings.Replace(own, "127.0.0.1", "localhost", 1)

	var ownGot, foreignGot string
	paths := []string{"/", "/agent", "/settings"}
	frames := make([]string, len(paths))
	actions := chromedp.Tasks{
		chromedp.Navigate(srv.URL + "/agent"),
		run(openSocket, "own", own, &ownGot),
		run(openSocket, "foreign", foreign, &foreignGot),
	}
	for i, path := range paths {
		actions = append(actions, run(frameOf, "frame"+path, path, &frames[i]))
	}
	if err := chromedp.Run(ctx, actions); err != nil {
		t.Fatal(err)
	}
	if ownGot != "open" {
		t.Errorf("WebSocket to the page's own origin %s: %s, want open", own, ownGot)
	}
	if foreignGot == "open" {
		t.Errorf("WebSocket to another origin %s: open, want it blocked", foreign)
	}
	for i, path := range paths {
		if frames[i] != "refused" {
			t.Errorf("framing %s: %s, want refused", path, frames[i])
		}
	}
}

func quote(s string) string { return "\"" + s + "\"" } // test URLs and keys have no quotes
