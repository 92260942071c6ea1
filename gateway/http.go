package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"switchboard/web"
)

func (g *Gateway) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", g.healthz)
	mux.HandleFunc("GET /readyz", g.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{}))
	// The desk serves every channel's conversations, with or without web chat.
	g.desk.Register(mux)
	mux.HandleFunc("GET /agent/conversations/{id}", agentLink)
	mux.Handle("GET /", web.Handler())
	if g.web != nil {
		g.web.Register(mux)
	}
	h := apiErrors(mux)
	if n := g.Config().Listen.MaxPerClient; n > 0 {
		h = newClientLimit(n).wrap(h)
	}
	return h
}

// apiErrors serves mux, except that a request under /api/ that no API
// route takes is answered in JSON, like every other API error: 404 for a
// path no route has, 405 with Allow for a method the path does not take.
// ServeMux's own answers are text/plain, and the pages' catch-all "GET /"
// would answer a GET for an unknown API path with the site's 404.
func apiErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") || isAPIPattern(mux, r) {
			mux.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			probe := *r
			probe.Method = m
			if isAPIPattern(mux, &probe) {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such API path"})
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed; allowed: " + strings.Join(allow, ", ")})
	})
}

// isAPIPattern reports whether an API route of mux takes r.
func isAPIPattern(mux *http.ServeMux, r *http.Request) bool {
	_, pattern := mux.Handler(r)
	return strings.Contains(pattern, "/api/")
}

// healthz says the process is alive and serving.
func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says the gateway can take traffic: its store answers.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	if g.draining.Load() {
		// Stopping: calls and streams under way go on, but a load
		// balancer must send new ones to another instance.
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := g.store.Ping(ctx); err != nil {
		g.log.Warn("not ready", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
		return
	}
	body := map[string]any{"status": "ready", "config": g.Config().File}
	// A stuck outbox (replies not going out) is reported, but the instance
	// stays in rotation: another instance would be no better at reaching
	// the channel's service.
	if h, err := g.outbox.Health(ctx); err == nil {
		body["outbox"] = map[string]any{"depth": h.Depth, "oldest_age_seconds": h.OldestAge.Seconds(), "stuck": h.Stuck}
		if h.Stuck {
			g.log.Warn("outbox stuck", "depth", h.Depth, "oldest_age", h.OldestAge)
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// whereToLook tells whoever started the gateway which pages to open, and
// where the agent token is when the gateway generated it; never the token.
func (g *Gateway) whereToLook() string {
	host, port, err := net.SplitHostPort(g.HTTPAddr())
	if err != nil {
		return "agent console: /agent"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost" // listening on every address
	}
	base := "http://" + net.JoinHostPort(host, port)
	s := "agent console: " + base + "/agent"
	if g.agentTokenFile != "" {
		s += " (token in " + shortPath(g.agentTokenFile) + ")"
	}
	if g.web != nil {
		s += "; demo shop with the chat widget: " + base + "/"
	}
	return s
}

// shortPath is p relative to the working directory when it is under it.
func shortPath(p string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(p) {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to tell it
}
