package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard/api"
	"switchboard/store/postgres/pgtest"
)

// Issue #16, with real processes: two gateways on one PostgreSQL schema.
// A visitor on one instance and an agent on the other talk through the
// bus; a second agent's claim on the first instance loses to the holder;
// and the instance holding a webhook delivery is killed mid-post, after
// which the other delivers every item once.
func TestTwoInstancesShareConversationsAndTheOutbox(t *testing.T) {
	dsn := pgtest.SchemaDSN(t) // skips without PostgreSQL, unless SWITCHBOARD_NO_SKIP=1
	bin := buildBinary(t)
	hook := newSink(t)
	cfg := filepath.Join(configDir(t), "switchboard.yaml")
	for _, e := range [][2]string{
		{"driver: sqlite", "driver: postgres"},
		{"  voice:\n    enabled: true", "  voice:\n    enabled: false"},
		{"lease: 30s", "lease: 2s"},
		{"poll_interval: 1s", "poll_interval: 100ms"},
		{"min_backoff: 1s", "min_backoff: 100ms"},
		{`url: ""`, "url: " + hook.url},
	} {
		editFile(t, cfg, e[0], e[1])
	}
	const samTok, alexTok = "sam-token-0123456789", "alex-token-0123456789"
	env := append(os.Environ(), "SWITCHBOARD_DATABASE_URL="+dsn, "SWITCHBOARD_SECRET=scale-out-test-secret-0123456789",
		"SWITCHBOARD_AGENT_TOKENS=sam:"+samTok+",alex:"+alexTok)
	a, b := startPeer(t, bin, cfg, env), startPeer(t, bin, cfg, env) // one after the other: the first migrates

	// 1. The visitor writes on A, the agent answers from B.
	agentB := dialStream(t, b.addr, "/api/v1/agent/stream?token="+samTok)
	eventually(t, "A sees Sam online at B", func() bool {
		var me struct{ Online []string }
		call(t, a.addr, "GET", "/api/v1/agent/me", alexTok, nil, http.StatusOK, &me)
		return slices.Contains(me.Online, "sam")
	})
	id, tok := newVisitor(t, a.addr)
	visitorA := dialStream(t, a.addr, "/api/v1/conversations/"+id+"/stream?token="+tok)
	call(t, a.addr, "POST", "/api/v1/conversations/"+id+"/messages", tok, map[string]string{"text": "I want to talk to a human"},
		http.StatusAccepted, nil)
	agentB.waitFor(t, "the handoff on B", func(e api.Event) bool { return e.Type == api.EventHandoff && e.ConversationID == id })
	call(t, b.addr, "POST", "/api/v1/agent/conversations/"+id+"/claim", samTok, nil, http.StatusOK, nil)

	const reply = "Hi, this is Sam. How can I help?"
	sent := time.Now()
	call(t, b.addr, "POST", "/api/v1/agent/conversations/"+id+"/messages", samTok, map[string]string{"text": reply},
		http.StatusAccepted, nil)
	got := visitorA.waitFor(t, "Sam's reply on A", func(e api.Event) bool {
		return e.Type == api.EventMessage && e.Message.Role == "agent" && e.Message.Text == reply
	})
	t.Logf("agent's reply on B reached the visitor's stream on A in %s", got.at.Sub(sent))

	const next = "My parcel 88231 never arrived."
	sent = time.Now()
	call(t, a.addr, "POST", "/api/v1/conversations/"+id+"/messages", tok, map[string]string{"text": next}, http.StatusAccepted, nil)
	got = agentB.waitFor(t, "the visitor's message on B", func(e api.Event) bool {
		return e.Type == api.EventMessage && e.ConversationID == id && e.Message.Role == "customer" && e.Message.Text == next
	})
	t.Logf("the visitor's message on A reached the agent's stream on B in %s", got.at.Sub(sent))

	// 2. Alex, on A, cannot take the conversation Sam holds through B.
	var held map[string]string
	call(t, a.addr, "POST", "/api/v1/agent/conversations/"+id+"/claim", alexTok, nil, http.StatusConflict, &held)
	if held["holder"] != "sam" || held["holder_name"] != "Sam" || !strings.Contains(held["error"], "Sam") {
		t.Errorf("409 body %v, want it to name Sam as the holder", held)
	}

	// 3. The webhook: the handoff above is delivered; then, with every post
	// held open, a few more handoffs; the instance holding a post is killed,
	// and the other delivers everything once.
	hook.waitDelivered(t, 1)
	hook.setHold(true)
	asked := []*peer{a, b, a, b} // where each visitor asks for a human
	more := len(asked)
	for i, p := range asked {
		cid, ctok := newVisitor(t, p.addr)
		call(t, p.addr, "POST", "/api/v1/conversations/"+cid+"/messages", ctok,
			map[string]string{"text": fmt.Sprintf("Order %d: I want to talk to a human", i)}, http.StatusAccepted, nil)
	}
	victim, heldKeys := hook.openPosts(t)
	survivor := map[string]*peer{a.instance: b, b.instance: a}[victim]
	dead := map[string]*peer{a.instance: a, b.instance: b}[victim]
	if survivor == nil {
		t.Fatalf("the held post came from %q, neither instance (%q, %q)", victim, a.instance, b.instance)
	}
	kill(t, dead.server)
	hook.setHold(false)
	t.Logf("killed %s while it held the posts of %v", victim, heldKeys)

	hook.waitDelivered(t, 1+more)
	eventually(t, "the survivor's outbox drained", func() bool {
		var ready struct{ Outbox struct{ Depth int } }
		call(t, survivor.addr, "GET", "/readyz", "", nil, http.StatusOK, &ready)
		return ready.Outbox.Depth == 0
	})
	// Drained: nothing is pending, so no post can come after this.
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.ok) != 1+more {
		t.Errorf("delivered %d handoffs, want %d: %v", len(hook.ok), 1+more, hook.ok)
	}
	for key, by := range hook.ok {
		if len(by) != 1 {
			t.Errorf("%s delivered %d times (by %v), want once", key, len(by), by)
		}
	}
	for _, key := range heldKeys {
		if by := hook.ok[key]; len(by) == 0 || by[0] != survivor.instance {
			t.Errorf("%s, held by the killed instance, was delivered by %v; want the survivor %s", key, by, survivor.instance)
		}
	}
	t.Logf("%d posts for %d handoffs", len(hook.attempts), len(hook.ok))
}

// peer is one of the gateways, with its name on the bus, which its
// webhook posts carry in X-Switchboard-Instance.
type peer struct {
	*server
	instance string
}

// startPeer starts a gateway with env.
func startPeer(t *testing.T, bin, cfg string, env []string) *peer {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--data", t.TempDir())
	cmd.Env = env
	p := &peer{server: launch(t, cmd)}
	p.waitLog(t, "switchboard started", func(l map[string]any) { p.instance, _ = l["instance"].(string) })
	if p.instance == "" {
		t.Fatal(`the "switchboard started" log line names no instance`)
	}
	return p
}

// kill ends the process at once, as a crash would.
func kill(t *testing.T, s *server) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("the killed gateway did not exit")
	}
}

// newVisitor starts a web chat conversation as the widget does.
func newVisitor(t *testing.T, addr string) (id, token string) {
	t.Helper()
	var c struct{ ID, Token string }
	call(t, addr, "POST", "/api/v1/conversations", "", map[string]string{"channel": "web"}, http.StatusCreated, &c)
	return c.ID, c.Token
}

// call makes one JSON request with a bearer token and checks its status;
// out, when not nil, gets the answer.
func call(t *testing.T, addr, method, path, token string, in any, want int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// stream is an open WebSocket stream; each event is stamped when it
// arrived.
type stream struct{ events chan stamped }

type stamped struct {
	api.Event
	at time.Time
}

func dialStream(t *testing.T, addr, path string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+path, nil)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	s := &stream{events: make(chan stamped, 256)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return // closed by the cleanup, or the instance died
			}
			e := stamped{at: time.Now()}
			if json.Unmarshal(data, &e.Event) == nil {
				s.events <- e
			}
		}
	}()
	t.Cleanup(func() { conn.CloseNow(); <-done })
	return s
}

// waitFor returns the first event that matches, or fails at a deadline far
// beyond what the issue asks (under a second): a guard, not a measurement.
func (s *stream) waitFor(t *testing.T, what string, match func(api.Event) bool) stamped {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-s.events:
			if match(e.Event) {
				return e
			}
		case <-deadline:
			t.Fatalf("no event on the stream: %s", what)
		}
	}
}

// sink is the contact center's webhook endpoint. It answers 200 and
// records who delivered each Idempotency-Key; while holding, it answers
// nothing and keeps each post open until its sender gives up or dies.
type sink struct {
	url string

	mu       sync.Mutex
	hold     bool
	attempts []*attempt
	ok       map[string][]string // Idempotency-Key -> instances answered 2xx
	order    []string            // keys in the order first delivered
	changed  chan struct{}
}

type attempt struct {
	key, instance string
	open          bool // held, and its sender still waits
}

func newSink(t *testing.T) *sink {
	s := &sink{ok: map[string][]string{}, changed: make(chan struct{}, 1)}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/hooks/switchboard"
	return s
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	a := &attempt{key: r.Header.Get("Idempotency-Key"), instance: r.Header.Get("X-Switchboard-Instance")}
	s.mu.Lock()
	a.open = s.hold
	s.attempts = append(s.attempts, a)
	if !a.open {
		if len(s.ok[a.key]) == 0 {
			s.order = append(s.order, a.key)
		}
		s.ok[a.key] = append(s.ok[a.key], a.instance)
	}
	s.mu.Unlock()
	s.tick()
	if !a.open {
		w.WriteHeader(http.StatusOK)
		return
	}
	<-r.Context().Done() // the sender's deadline, or its death
	s.mu.Lock()
	a.open = false
	s.mu.Unlock()
	s.tick()
}

func (s *sink) tick() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *sink) setHold(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = on
}

// until polls cond, under the sink's lock, until it holds.
func (s *sink) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("webhook sink: never %s", what)
		}
	}
}

// waitDelivered returns the keys delivered, in order, once there are n.
func (s *sink) waitDelivered(t *testing.T, n int) []string {
	t.Helper()
	s.until(t, fmt.Sprintf("%d handoffs delivered", n), func() bool { return len(s.order) >= n })
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// openPosts waits for a post held open and returns its sender and the keys
// of every post that sender holds open now.
func (s *sink) openPosts(t *testing.T) (instance string, keys []string) {
	t.Helper()
	s.until(t, "a post held open", func() bool {
		for _, a := range slices.Backward(s.attempts) {
			if a.open {
				instance = a.instance
				return true
			}
		}
		return false
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.attempts {
		if a.open && a.instance == instance {
			keys = append(keys, a.key)
		}
	}
	return instance, keys
}
