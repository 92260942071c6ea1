package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
)

// pipeListener hands the server the far ends of in-memory pipes, so that a
// server under testing/synctest runs on the bubble's fake clock.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.once.Do(func() { close(l.done) }); return nil }

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

// dial returns the client's end of a new connection to the server.
func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

// serveInBubble runs the gateway's HTTP server for h on a pipeListener
// until the test ends.
func serveInBubble(t *testing.T, h http.Handler) *pipeListener {
	ln := newPipeListener()
	srv := newHTTPServer(h)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln
}

// watchClose reads c to its end; the func it returns reports, once the
// bubble is idle, whether the server has closed the connection.
func watchClose(c net.Conn) func() bool {
	var mu sync.Mutex
	closed := false
	go func() {
		_, _ = io.Copy(io.Discard, c)
		mu.Lock()
		closed = true
		mu.Unlock()
	}()
	return func() bool {
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		return closed
	}
}

// A client that sends its headers and half a body, then nothing, is cut off
// after readTimeout instead of holding a connection and a handler forever.
func TestIncompleteBodyIsCutOffAfterReadTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bodyErr := make(chan error, 1)
		ln := serveInBubble(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := io.ReadAll(r.Body)
			bodyErr <- err
		}))
		c := ln.dial()
		defer c.Close()
		go fmt.Fprint(c, "POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"half\":")
		closed := watchClose(c)

		time.Sleep(readTimeout - time.Second)
		if closed() || len(bodyErr) != 0 {
			t.Fatalf("cut off before readTimeout (%v)", readTimeout)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		select {
		case err := <-bodyErr:
			if err == nil {
				t.Fatal("the handler read a whole body that was never sent")
			}
		default:
			t.Fatalf("%v after the headers the handler still waits for the body", readTimeout+time.Second)
		}
		if !closed() {
			t.Error("the connection is still open after its body timed out")
		}
	})
}

// A keep-alive connection that no request uses is closed after idleTimeout.
func TestIdleKeepAliveIsClosedAfterIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := serveInBubble(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}))
		c := ln.dial()
		defer c.Close()
		go fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			t.Fatal("the server did not keep the connection alive")
		}
		closed := watchClose(c)

		time.Sleep(idleTimeout - time.Second)
		if closed() {
			t.Fatalf("closed before idleTimeout (%v)", idleTimeout)
		}
		time.Sleep(2 * time.Second)
		if !closed() {
			t.Errorf("an idle keep-alive connection is still open after %v", idleTimeout+time.Second)
		}
	})
}

// Posting a customer's message answers only after the AI's turn, which
// responder.openai.timeout lets run 2 minutes, and the handoff summary
// after it: writeTimeout must not cut that answer.
func TestSlowestTurnAnswerFitsInWriteTimeout(t *testing.T) {
	const slowestTurn = 2*time.Minute + 5*time.Second
	synctest.Test(t, func(t *testing.T) {
		ln := serveInBubble(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(slowestTurn)
			_, _ = io.WriteString(w, `{"message":{}}`)
		}))
		c := ln.dial()
		defer c.Close()
		go fmt.Fprint(c, "POST /api/v1/conversations/c1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("answer after %v: %v", slowestTurn, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != `{"message":{}}` {
			t.Errorf("answer after %v: %d %q, %v", slowestTurn, resp.StatusCode, body, err)
		}
	})
}

// A WebSocket stream is hijacked from the server, which clears the
// connection's deadlines: it outlives every server timeout, idle or not.
func TestWebSocketStreamOutlivesServerTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := serveInBubble(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, msg, err := c.Read(r.Context())
				if err != nil {
					return
				}
				if err := c.Write(r.Context(), typ, msg); err != nil {
					return
				}
			}
		}))
		tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.dial(), nil }}
		defer tr.CloseIdleConnections()
		ctx := context.Background()
		c, _, err := websocket.Dial(ctx, "ws://gateway/api/v1/agent/stream", &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		for round := range 2 {
			time.Sleep(max(headerTimeout, readTimeout, idleTimeout, writeTimeout) + time.Minute)
			want := fmt.Sprintf("still there %d", round)
			if err := c.Write(ctx, websocket.MessageText, []byte(want)); err != nil {
				t.Fatalf("write after %d idle rounds: %v", round+1, err)
			}
			if _, got, err := c.Read(ctx); err != nil || string(got) != want {
				t.Fatalf("echo after %d idle rounds: %q, %v", round+1, got, err)
			}
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
}

// dialFrom is an HTTP client whose connections come from the local address
// ip: on Linux all of 127.0.0.0/8 is loopback, so one machine is several
// clients.
func dialFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// One address may hold listen.max_per_client requests, open WebSocket
// streams included, authenticated or not; past that it gets 429 with a
// JSON error, while another address is served. A closed stream frees its
// place.
func TestStreamsPastTheClientCapGet429(t *testing.T) {
	cfg := fixture(t)
	const token = "limits-test-agent-token"
	t.Setenv("SWITCHBOARD_AGENT_TOKEN", token)
	g, stop := start(t, cfg)
	defer stop()
	base := "ws://" + g.HTTPAddr() + "/api/v1/agent/stream"
	maxRequestsPerClient := g.Config().Listen.MaxPerClient
	ctx := t.Context()
	client := dialFrom("127.0.0.1")
	defer client.CloseIdleConnections()
	open := func(url string) (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client})
	}
	var streams []*websocket.Conn
	defer func() {
		for _, c := range streams {
			c.CloseNow()
		}
	}()
	for i := range maxRequestsPerClient {
		url := base + "?token=" + token // authenticated before the upgrade
		if i%2 == 1 {
			url = base // authenticates with its first frame, which never comes
		}
		c, _, err := open(url)
		if err != nil {
			t.Fatalf("stream %d of %d: %v", i+1, maxRequestsPerClient, err)
		}
		streams = append(streams, c)
	}
	for _, url := range []string{base + "?token=" + token, base} {
		_, resp, err := open(url)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("stream past the cap (%s): %v, %+v; want 429", url, err, resp)
		}
		checkJSONError(t, resp)
	}
	resp, err := dialFrom("127.0.0.2").Get("http://" + g.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another address at /healthz: %d, want 200", resp.StatusCode)
	}

	streams[0].Close(websocket.StatusNormalClosure, "")
	streams = streams[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := open(base + "?token=" + token)
		if err == nil {
			streams = append(streams, c)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream never freed its place: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling the server's count, which has no event to wait on
	}
}

// checkJSONError checks that resp is a JSON error body.
func checkJSONError(t *testing.T, resp *http.Response) {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%d: Content-Type %q, want JSON", resp.StatusCode, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error == "" {
		t.Errorf("%d: body is not a JSON error: %v, error %q", resp.StatusCode, err, body.Error)
	}
}
