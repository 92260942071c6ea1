package desk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/desk"
	"switchboard/events"
	"switchboard/store"
	"switchboard/store/postgres"
	"switchboard/store/postgres/pgtest"
	"switchboard/store/sqlite"
)

const (
	tokSam  = "sam-token-0123456789"
	tokAlex = "alex-token-0123456789"
)

type env map[string]string

func (e env) get(k string) string { return e[k] }

// instance is one gateway's desk on a store and a bus.
type instance struct {
	t     *testing.T
	srv   *httptest.Server
	store store.Store
	bus   events.Bus
	// delivered records the replies the routes were given.
	mu        sync.Mutex
	delivered []store.Message
}

func newInstance(t *testing.T, st store.Store, bus events.Bus, name string) *instance {
	t.Helper()
	agents, err := desk.LoadAgents([]config.Agent{{Name: "Sam", TokenEnv: "SAM"}, {Name: "Alex", TokenEnv: "ALEX"}},
		desk.Sources{Getenv: env{"SAM": tokSam, "ALEX": tokAlex}.get}, "")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := &instance{t: t, store: st, bus: bus}
	record := desk.RouteFunc(func(_ context.Context, _ store.Conversation, m store.Message) error {
		in.mu.Lock()
		in.delivered = append(in.delivered, m)
		in.mu.Unlock()
		return nil
	})
	d := desk.New(desk.Options{Store: st, Bus: bus, Agents: agents, Presence: desk.NewPresence(bus, name, time.Now, log),
		Routes: map[string]desk.Route{"web": desk.ByBus, "sms": record},
		Live:   func() desk.Live { return desk.Live{MaxMessageChars: 100} }, Log: log, Now: time.Now})
	mux := http.NewServeMux()
	d.Register(mux)
	in.srv = httptest.NewServer(mux)
	t.Cleanup(in.srv.Close)
	return in
}

func (in *instance) do(method, path, token string, body any) (int, map[string]any) {
	in.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		in.t.Fatalf("%s %s: %d, not JSON: %q", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

// waiting stores a conversation on channel that waits for an agent.
func waiting(t *testing.T, st store.Store, channel string) store.ConversationID {
	t.Helper()
	c, err := st.CreateConversation(t.Context(), store.Conversation{Channel: store.Channel(channel), Customer: "+15550001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AppendMessage(t.Context(), store.Message{ConversationID: c.ID, Role: store.RoleCustomer, Text: "my card 4242 4242 4242 4242 was charged twice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RequestHandoff(t.Context(), store.Handoff{ConversationID: c.ID, Trigger: "explicit_request", Reason: "customer_request"}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func sqliteStore(t *testing.T) store.Store {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func pgStore(t *testing.T, dsn string) store.Store {
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestUnknownTokenIs401AndChangesNothing(t *testing.T) {
	st := sqliteStore(t)
	bus := events.NewInProcess("a")
	defer bus.Close()
	in := newInstance(t, st, bus, "a")
	id := waiting(t, st, "web")
	for _, tok := range []string{"", "wrong-token-0123456789"} {
		status, body := in.do("POST", "/api/v1/agent/conversations/"+string(id)+"/claim", tok, nil)
		if status != http.StatusUnauthorized || body["error"] == "" {
			t.Errorf("claim with %q = %d %v, want 401 with a JSON error", tok, status, body)
		}
	}
	if c, _ := st.Conversation(t.Context(), id); c.State != store.StatePendingHuman || c.Agent != "" {
		t.Errorf("conversation changed: %+v", c)
	}
}

// Every claim, reply and resolution records which agent did it, and the
// reply goes out through the conversation's channel.
func TestRepliesGoThroughTheChannelsRouteAndRecordTheAgent(t *testing.T) {
	st := sqliteStore(t)
	bus := events.NewInProcess("a")
	defer bus.Close()
	in := newInstance(t, st, bus, "a")
	id := string(waiting(t, st, "sms"))
	if status, body := in.do("POST", "/api/v1/agent/conversations/"+id+"/claim", tokSam, nil); status != 200 || body["agent_name"] != "Sam" {
		t.Fatalf("claim = %d %v", status, body)
	}
	status, body := in.do("POST", "/api/v1/agent/conversations/"+id+"/messages", tokSam, map[string]string{"text": "Refunded, sorry!"})
	if status != http.StatusAccepted {
		t.Fatalf("reply = %d %v", status, body)
	}
	if m := body["message"].(map[string]any); m["agent"] != "Sam" {
		t.Errorf("reply shows agent %v, want Sam", m["agent"])
	}
	in.mu.Lock()
	got := in.delivered
	in.mu.Unlock()
	if len(got) != 1 || got[0].Text != "Refunded, sorry!" || got[0].Agent != "sam" {
		t.Fatalf("route was given %+v, want the reply by sam", got)
	}
	if status, body := in.do("POST", "/api/v1/agent/conversations/"+id+"/resolve", tokAlex, nil); status != http.StatusConflict || body["holder"] != "sam" {
		t.Errorf("resolve by another agent = %d %v, want 409 naming sam", status, body)
	}
	if status, _ := in.do("POST", "/api/v1/agent/conversations/"+id+"/resolve", tokSam, nil); status != 200 {
		t.Fatalf("resolve = %d", status)
	}
	hs, _ := st.Handoffs(t.Context(), store.ConversationID(id))
	if hs[len(hs)-1].Agent != "sam" || hs[len(hs)-1].Status != store.HandoffResolved {
		t.Errorf("handoff = %+v, want resolved by sam", hs[len(hs)-1])
	}
}

// A conversation whose channel cannot carry a reply (a phone call that was
// transferred) says so and takes none.
func TestNoReplyIntoAFinishedCall(t *testing.T) {
	st := sqliteStore(t)
	bus := events.NewInProcess("a")
	defer bus.Close()
	in := newInstance(t, st, bus, "a")
	id := string(waiting(t, st, "voice"))
	_, p := in.do("GET", "/api/v1/agent/conversations/"+id, tokSam, nil)
	if p["can_reply"] != false || p["reply_note"] == "" {
		t.Errorf("packet can_reply=%v note=%v, want false with a note", p["can_reply"], p["reply_note"])
	}
	in.do("POST", "/api/v1/agent/conversations/"+id+"/claim", tokSam, nil)
	status, body := in.do("POST", "/api/v1/agent/conversations/"+id+"/messages", tokSam, map[string]string{"text": "hello?"})
	if status != http.StatusConflict {
		t.Errorf("reply into a call = %d %v, want 409", status, body)
	}
	ms, _ := st.Messages(t.Context(), store.ConversationID(id))
	for _, m := range ms {
		if m.Role == store.RoleAgent {
			t.Errorf("a reply was stored: %+v", m)
		}
	}
}

// Two agents claiming at once on two instances of one database: one wins,
// the other gets 409 naming the holder.
func TestConcurrentClaimsAcrossInstances(t *testing.T) {
	dsn := pgtest.SchemaDSN(t)
	stA, stB := pgStore(t, dsn), pgStore(t, dsn)
	busA, busB := events.NewInProcess("a"), events.NewInProcess("b")
	defer busA.Close()
	defer busB.Close()
	a, b := newInstance(t, stA, busA, "a"), newInstance(t, stB, busB, "b")
	for range 10 {
		id := string(waiting(t, stA, "web"))
		type result struct {
			status int
			body   map[string]any
		}
		res := make([]result, 2)
		var wg sync.WaitGroup
		for i, call := range []struct {
			in  *instance
			tok string
		}{{a, tokSam}, {b, tokAlex}} {
			wg.Go(func() {
				s, body := call.in.do("POST", "/api/v1/agent/conversations/"+id+"/claim", call.tok, nil)
				res[i] = result{s, body}
			})
		}
		wg.Wait()
		c, _ := stB.Conversation(t.Context(), store.ConversationID(id))
		wins, loses := 0, 0
		for _, r := range res {
			switch r.status {
			case http.StatusOK:
				wins++
			case http.StatusConflict:
				loses++
				if r.body["holder"] != c.Agent || r.body["error"] != "taken by "+r.body["holder_name"].(string) {
					t.Errorf("409 body %v does not name the holder %s", r.body, c.Agent)
				}
			}
		}
		if wins != 1 || loses != 1 {
			t.Fatalf("claims = %+v, want one 200 and one 409", res)
		}
	}
}

// An asynchronous channel's reply goes into the outbox once, addressed to
// the customer on that channel, for its sender to deliver.
func TestOutboxRouteEnqueuesTheReplyOnce(t *testing.T) {
	st := sqliteStore(t)
	bus := events.NewInProcess("a")
	defer bus.Close()
	wake := bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Outbox}})
	defer wake.Close()
	id := waiting(t, st, "sms")
	c, _ := st.Conversation(t.Context(), id)
	m, _, err := st.AppendMessage(t.Context(), store.Message{ConversationID: id, Role: store.RoleAgent, Text: "Refunded.", Agent: "sam"})
	if err != nil {
		t.Fatal(err)
	}
	route := desk.OutboxRoute(st, bus, func(string) string { return "Sam" })
	for range 2 { // a retried request
		if err := route.Deliver(t.Context(), c, m); err != nil {
			t.Fatal(err)
		}
	}
	due, err := st.Due(t.Context(), time.Now(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Destination != "sms:+15550001" || due[0].ConversationID != id {
		t.Fatalf("outbox = %+v, want one item for sms:+15550001", due)
	}
	var r desk.Reply
	if err := json.Unmarshal(due[0].Payload, &r); err != nil || r.Text != "Refunded." || r.AgentName != "Sam" || r.MessageID != m.ID {
		t.Errorf("payload = %+v, %v", r, err)
	}
	select {
	case <-wake.C():
	default:
		t.Error("the delivery workers were not woken")
	}
}
