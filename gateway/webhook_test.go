package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/channels/webhook"
	"switchboard/store"
)

// hook is a contact center's webhook endpoint: it records every post and
// answers each with the next status of its script (200 once it runs out).
type hook struct {
	mu     sync.Mutex
	script []int
	posts  []post
	got    chan struct{}
}

type post struct {
	header http.Header
	body   []byte
	status int
}

func newHook(t *testing.T, script ...int) (*hook, string) {
	h := &hook{script: script, got: make(chan struct{}, 100)}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL + "/hooks/switchboard"
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	status := http.StatusOK
	if len(h.script) > 0 {
		status, h.script = h.script[0], h.script[1:]
	}
	h.posts = append(h.posts, post{header: r.Header.Clone(), body: b, status: status})
	h.mu.Unlock()
	w.WriteHeader(status)
	h.got <- struct{}{}
}

// wait returns the posts once there are n, or fails at a deadline.
func (h *hook) wait(t *testing.T, n int) []post {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		posts := append([]post(nil), h.posts...)
		h.mu.Unlock()
		if len(posts) >= n {
			return posts
		}
		select {
		case <-h.got:
		case <-deadline:
			t.Fatalf("%d webhook posts, want %d", len(posts), n)
		}
	}
}

// visitorAsks opens a web chat conversation and sends text in it, as the
// widget does; the turn has run when it returns.
func visitorAsks(t *testing.T, g *Gateway, text string) store.ConversationID {
	t.Helper()
	base := "http://" + g.HTTPAddr() + "/api/v1/conversations"
	var conv struct{ ID, Token string }
	postJSON(t, base, "", map[string]string{"channel": "web"}, http.StatusCreated, &conv)
	postJSON(t, base+"/"+conv.ID+"/messages", conv.Token, map[string]string{"text": text}, http.StatusAccepted, nil)
	return store.ConversationID(conv.ID)
}

func postJSON(t *testing.T, url, token string, in any, want int, out any) {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", url, resp.StatusCode, body, want)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatal(err)
		}
	}
}

// A handoff reaches the contact center's webhook: one post of the masked
// context packet, signed, tried again after the service answered 503, with
// the same idempotency key each time; then the outbox is empty.
func TestHandoffGoesToTheWebhookAndIsRetriedAfter503(t *testing.T) {
	h, url := newHook(t, http.StatusServiceUnavailable)
	const secret = "whsec-gateway-test-0123"
	t.Setenv("SB_TEST_WEBHOOK_SECRET", secret)
	cfg := fixture(t)
	edit(t, cfg, `url: ""`, "url: "+url)
	edit(t, cfg, `secret_env: ""`, "secret_env: SB_TEST_WEBHOOK_SECRET")
	edit(t, cfg, "poll_interval: 1s", "poll_interval: 50ms")
	edit(t, cfg, "min_backoff: 1s", "min_backoff: 20ms")
	g, stop := start(t, cfg)
	defer stop()

	const card = "4242 4242 4242 4242"
	id := visitorAsks(t, g, "I was charged twice on my card "+card+", I want to talk to a human")
	posts := h.wait(t, 2)
	hs, err := g.Store().Handoffs(context.Background(), id)
	if err != nil || len(hs) != 1 {
		t.Fatalf("handoffs %+v, %v", hs, err)
	}
	key := webhookKey(hs[0].ID)
	for i, p := range posts {
		if k := p.header.Get("Idempotency-Key"); k != key {
			t.Errorf("post %d: Idempotency-Key %q, want %q", i, k, key)
		}
		if sig := p.header.Get("X-Switchboard-Signature"); sig != webhook.Sign([]byte(secret), p.body) {
			t.Errorf("post %d: signature %q does not verify", i, sig)
		}
		if inst := p.header.Get("X-Switchboard-Instance"); inst != g.instance {
			t.Errorf("post %d: instance %q, want %q", i, inst, g.instance)
		}
	}
	if posts[0].status != http.StatusServiceUnavailable || posts[1].status != http.StatusOK || !bytes.Equal(posts[0].body, posts[1].body) {
		t.Errorf("posts answered %d then %d; want the same post again after the 503", posts[0].status, posts[1].status)
	}
	body := string(posts[1].body)
	if strings.Contains(body, card) || !strings.Contains(body, "[card ending 4242]") {
		t.Errorf("the card is not masked in the post: %s", body)
	}
	var got struct {
		Event, Status, ID, State, Channel string
		HandoffID                         int64 `json:"handoff_id"`
		Handoff                           struct{ Reason, Status string }
		Transcript                        []struct{ Role, Text string }
	}
	if err := json.Unmarshal(posts[1].body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Event != "handoff" || got.Status != store.HandoffPending || got.ID != string(id) || got.HandoffID != hs[0].ID ||
		got.State != string(store.StatePendingHuman) || got.Channel != "web" || got.Handoff.Reason != hs[0].Reason || got.Handoff.Status != store.HandoffPending {
		t.Errorf("post = %+v", got)
	}
	if len(got.Transcript) == 0 || got.Transcript[0].Role != "customer" || !strings.Contains(got.Transcript[0].Text, "[card ending 4242]") {
		t.Errorf("transcript = %+v", got.Transcript)
	}
	eventually(t, "the outbox drained", func() bool {
		st, err := g.Store().OutboxStats(context.Background(), time.Now())
		return err == nil && st.Depth == 0
	})
	if n := len(h.wait(t, 2)); n != 2 {
		t.Errorf("%d posts, want 2", n)
	}
}

// With no webhook URL, a handoff queues nothing.
func TestHandoffWithTheWebhookOffQueuesNothing(t *testing.T) {
	g, stop := start(t, fixture(t))
	defer stop()
	id := visitorAsks(t, g, "I want to talk to a human")
	hs, err := g.Store().Handoffs(context.Background(), id)
	if err != nil || len(hs) != 1 {
		t.Fatalf("handoffs %+v, %v", hs, err)
	}
	// Enqueue creates the item only if none has the key.
	_, created, err := g.Store().Enqueue(context.Background(), store.OutboxItem{Destination: "test",
		IdempotencyKey: webhookKey(hs[0].ID), Payload: []byte("{}")})
	if err != nil || !created {
		t.Errorf("an item for the handoff was queued with the webhook off (%v)", err)
	}
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		<-time.After(20 * time.Millisecond)
	}
}

// A signing secret named but not set stops the gateway from starting,
// rather than sending unsigned posts.
func TestWebhookSecretNamedButUnsetRefusesToStart(t *testing.T) {
	cfg := fixture(t)
	edit(t, cfg, `url: ""`, "url: http://127.0.0.1:9/hooks")
	edit(t, cfg, `secret_env: ""`, "secret_env: SB_TEST_WEBHOOK_SECRET_UNSET")
	t.Setenv("SB_TEST_WEBHOOK_SECRET_UNSET", "")
	_, err := New(context.Background(), Options{ConfigPath: cfg, HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DataDir: t.TempDir()},
		slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "handoff.webhook.secret_env") {
		t.Fatalf("New: %v, want an error naming handoff.webhook.secret_env", err)
	}
}
