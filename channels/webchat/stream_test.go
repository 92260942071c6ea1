package webchat

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard/api"
)

func (r *rig) dial(path string, header http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(r.srv.URL, "http") + path
	return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
}

// next reads events until one of type typ arrives.
func next(t *testing.T, c *websocket.Conn, typ string) api.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", typ, err)
		}
		var ev api.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatalf("event is not JSON: %q", data)
		}
		if ev.Type == typ {
			return ev
		}
	}
}

func send(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func TestStreamCarriesTheWholeHandoff(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	cust, _, err := r.dial("/api/v1/conversations/"+id+"/stream?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cust.CloseNow()
	agent, _, err := r.dial("/api/v1/agent/stream?token="+agentToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.CloseNow()

	send(t, cust, map[string]string{"type": "message", "text": "Do you ship internationally?"})
	if ev := next(t, cust, "message"); ev.Message.Role != "customer" {
		t.Fatalf("first event should echo the customer's message: %+v", ev)
	}
	if ev := next(t, cust, "message"); ev.Message.Role != "ai" {
		t.Fatalf("then the AI's reply: %+v", ev)
	}
	send(t, cust, map[string]string{"type": "message", "text": "can u get me a human pls"})
	ev := next(t, cust, "handoff")
	if ev.Handoff.Trigger != "explicit_request" || ev.Text != r.live.Handoff.Messages.Handoff {
		t.Fatalf("handoff event: %+v", ev)
	}
	if ev := next(t, agent, "handoff"); ev.ConversationID != id {
		t.Fatalf("agents should hear of the handoff: %+v", ev)
	}
	r.do("POST", "/api/v1/agent/conversations/"+id+"/claim", agentToken, nil)
	if ev := next(t, cust, "agent_joined"); ev.Agent != "Alice" {
		t.Fatalf("agent_joined: %+v", ev)
	}
	if ev := next(t, cust, "message"); ev.Message.Role != "system" || ev.Message.Text != "Alice joined the conversation." {
		t.Fatalf("the join is a line of the thread: %+v", ev.Message)
	}
	r.do("POST", "/api/v1/agent/conversations/"+id+"/messages", agentToken, map[string]string{"text": "Hello from Alice"})
	if ev := next(t, cust, "message"); ev.Message.Role != "agent" || ev.Message.Text != "Hello from Alice" {
		t.Fatalf("agent's reply on the customer's stream: %+v", ev)
	}
	r.do("POST", "/api/v1/agent/conversations/"+id+"/resolve", agentToken, nil)
	next(t, cust, "resolved")
	if ev := next(t, cust, "message"); ev.Message.Role != "system" || ev.Message.Text != "Alice marked the conversation as resolved." {
		t.Fatalf("the resolution is a line of the thread: %+v", ev.Message)
	}
}

func TestStreamAuthenticatesWithTheFirstFrame(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	c, _, err := r.dial("/api/v1/conversations/"+id+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send(t, c, map[string]string{"type": "auth", "token": tok})
	send(t, c, map[string]string{"type": "message", "text": "hello"})
	next(t, c, "message")

	bad, _, err := r.dial("/api/v1/conversations/"+id+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.CloseNow()
	send(t, bad, map[string]string{"type": "auth", "token": "wrong"})
	_, _, err = bad.Read(context.Background())
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("a wrong token should close with 1008, got %v", err)
	}
}

func TestStreamRefusesForeignOrigins(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	_, res, err := r.dial("/api/v1/conversations/"+id+"/stream?token="+tok, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("want 403 for a foreign origin, got %v %v", res, err)
	}
	c, _, err := r.dial("/api/v1/conversations/"+id+"/stream?token="+tok, http.Header{"Origin": {"http://localhost:8080"}})
	if err != nil {
		t.Fatalf("an allowed origin was refused: %v", err)
	}
	c.CloseNow()
}

func TestStreamBoundsAndBadFrames(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	c, _, err := r.dial("/api/v1/conversations/"+id+"/stream?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(context.Background(), websocket.MessageText, []byte("{nope")); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, c, "error"); !strings.Contains(ev.Error, "invalid JSON") {
		t.Errorf("error event: %+v", ev)
	}
	if err := c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", api.MaxFrame+1))); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read(context.Background())
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("a frame over %d bytes should close with 1009, got %v", api.MaxFrame, err)
	}
	// Nothing was lost: the conversation still answers.
	if res := r.say(id, tok, "hello"); res.status != http.StatusAccepted {
		t.Errorf("after a closed stream: %d", res.status)
	}
}

func TestAgentStreamNeedsAToken(t *testing.T) {
	r := newRig(t, nil)
	_, res, err := r.dial("/api/v1/agent/stream?token=nope", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("want 401, got %v %v", res, err)
	}
}

// What happens while the AI holds a conversation (its messages, details the
// visitor gives) is not the agents' business: their stream hears of the
// conversation first when it is handed to them.
func TestAgentStreamHearsNothingWhileTheAIHoldsTheConversation(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	agent, _, err := r.dial("/api/v1/agent/stream?token="+agentToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.CloseNow()
	r.say(id, tok, "Do you ship internationally?")
	if res := r.do("POST", "/api/v1/conversations/"+id+"/details", tok, map[string]string{"name": "Ada"}); res.status != http.StatusNoContent {
		t.Fatalf("details: %d %v", res.status, res.body)
	}
	r.say(id, tok, "can u get me a human pls")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var (
		first api.Event
		data  []byte
	)
	for first.Type == "" || first.Type == api.EventPresence { // who is online is the agents' business
		if _, data, err = agent.Read(ctx); err != nil {
			t.Fatal(err)
		}
		first = api.Event{}
		if err := json.Unmarshal(data, &first); err != nil {
			t.Fatal(err)
		}
	}
	if first.State != "pending_human" {
		t.Errorf("the agent stream's first event is %s", data)
	}
}

// One limiter per address, whatever the transport: once HTTP answers 429,
// messages sent over the stream are refused too, and no turn runs for them.
func TestStreamMessagesCountAgainstThePerAddressLimit(t *testing.T) {
	r := newRig(t, func(l *Live) {
		l.Web.RateLimit.PerIP.PerSecond = 0.001
		l.Web.RateLimit.PerIP.Burst = 2 // the conversation and one message
		l.Web.RateLimit.PerConversation.Burst = 100
	})
	id, tok := r.start()
	r.say(id, tok, "Do you ship internationally?")
	if res := r.say(id, tok, "And to Norway?"); res.status != http.StatusTooManyRequests {
		t.Fatalf("third request: %d, want 429", res.status)
	}
	cust, _, err := r.dial("/api/v1/conversations/"+id+"/stream?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cust.CloseNow()
	send(t, cust, map[string]string{"type": "message", "text": "How long do I have to return an item?"})
	if ev := next(t, cust, "error"); !strings.Contains(ev.Error, "too many") {
		t.Fatalf("error event %+v, want too many requests", ev)
	}
	if ms := r.messages(id, tok); len(ms) != 2 {
		t.Errorf("%d messages stored, want the first question and its answer only", len(ms))
	}
}
