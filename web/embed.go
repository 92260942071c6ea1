// Package web owns the browser side of Switchboard's web chat: the embeddable
// chat widget, the demo page that shows it on a sample shop, the agent
// console (with its insights view) and the read-only settings page.
//
// Everything is plain HTML, CSS and JavaScript embedded in the binary and
// served as files; there is no build step and nothing is fetched from another
// origin. The package serves files only: the API those pages call lives in
// channels/webchat.
package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// ContentSecurityPolicy is sent with every file. It allows no inline script
// or style, so the pages keep all code and styling in files of their own.
// connect-src 'self' covers the pages' WebSockets too: in CSP Level 3 'self'
// matches ws: and wss: on the page's own host and port, and no page talks to
// another origin. frame-ancestors 'none' keeps other sites from framing the
// console or settings under a decoy (clickjacking); the widget is not
// affected, as sites load it as a script, not in a frame.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

// pages maps the public routes that are not under /static/ to their files.
var pages = map[string]string{
	"/":          "index.html",
	"/widget.js": "widget.js",
	"/agent":     "agent.html",
	"/settings":  "settings.html",
}

// contentTypes is fixed here rather than taken from the system's MIME table,
// which differs between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
}

// Handler serves the demo page at /, the widget script at /widget.js, the
// agent console at /agent, the settings page at /settings and their assets
// under /static/. Any other path is 404.
func Handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic("web: embedded static folder missing: " + err.Error()) // impossible with go:embed static
	}
	return &handler{static: static}
}

type handler struct {
	static fs.FS
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := h.resolve(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := fs.ReadFile(h.static, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType(name))
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers without CSP Level 2
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	// Embedded files have no modification time; ServeContent still handles
	// HEAD and ranges.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// resolve maps a request path to a file in the static folder. Only regular
// files with a known type are served, so folders are never listed.
func (h *handler) resolve(p string) (string, bool) {
	if name, ok := pages[p]; ok {
		return name, true
	}
	rest, ok := strings.CutPrefix(p, "/static/")
	if !ok || rest == "" || path.Clean("/"+rest) != "/"+rest {
		return "", false
	}
	if _, known := contentTypes[path.Ext(rest)]; !known || !fs.ValidPath(rest) {
		return "", false
	}
	info, err := fs.Stat(h.static, rest)
	if err != nil || !info.Mode().IsRegular() {
		return "", false
	}
	return rest, true
}

func contentType(name string) string {
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		return ct
	}
	return "application/octet-stream"
}
