package gateway

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// What one client may hold of the HTTP server. The timeouts are
// constants: they bound abuse, and no client that follows the pages comes
// near them. How many requests one address may have in progress is
// listen.max_per_client, since a load balancer makes every client one
// address.
const (
	// headerTimeout bounds reading a request's headers.
	headerTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request, body included: a client
	// that stops halfway through a body loses its connection.
	readTimeout = 30 * time.Second
	// idleTimeout closes a keep-alive connection that no request has used
	// for this long.
	idleTimeout = 30 * time.Second
	// writeTimeout bounds a whole response, from the end of its request's
	// headers, so that a client that stops reading frees its connection.
	// It must outlast the slowest normal answer: posting a customer's
	// message waits for the AI's turn, which responder.openai.timeout may
	// let run 2 minutes, plus the handoff summary. WebSocket streams are
	// not bound by it: net/http clears a connection's deadlines when the
	// handler hijacks it.
	writeTimeout = 3 * time.Minute
)

// newHTTPServer is the gateway's HTTP server for h, with the bounds above.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
}

// clientLimit caps the requests each client address has in progress. The
// address is the connection's: behind a reverse proxy every client shares
// the proxy's, and the proxy must do its own limiting.
type clientLimit struct {
	max int

	mu   sync.Mutex
	open map[string]int // client address -> requests in progress; no zero entries
}

func newClientLimit(max int) *clientLimit {
	return &clientLimit{max: max, open: map[string]int{}}
}

// wrap answers 429 with a JSON error, and closes the connection, for a
// request past its address's cap; others go to next.
func (l *clientLimit) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if !l.acquire(addr) {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many connections from your address"})
			return
		}
		defer l.release(addr)
		next.ServeHTTP(w, r)
	})
}

func (l *clientLimit) acquire(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr] >= l.max {
		return false
	}
	l.open[addr]++
	return true
}

func (l *clientLimit) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// clientAddr is the IP address a request came from.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
