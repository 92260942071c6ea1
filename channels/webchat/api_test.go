package webchat

import (
	"net/http"
	"strings"
	"switchboard/api"
	"testing"
)

func TestVisitorAsksTheAIThenAHumanTakesOver(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()

	if res := r.say(id, tok, "How long do I have to return an item?"); res.status != http.StatusAccepted {
		t.Fatalf("message: %d %v", res.status, res.body)
	}
	ms := r.messages(id, tok)
	if len(ms) != 2 || ms[1]["role"] != "ai" || !strings.Contains(ms[1]["text"].(string), "30 days") {
		t.Fatalf("want the AI's answer from the knowledge base, got %v", ms)
	}

	r.say(id, tok, "I'd like to talk to a real person")
	conv := r.do("GET", "/api/v1/conversations/"+id, tok, nil)
	h, _ := conv.body["handoff"].(map[string]any)
	if conv.body["state"] != "pending_human" || h == nil || h["trigger"] != "explicit_request" {
		t.Fatalf("want a pending handoff on the request, got %v", conv.body)
	}

	queue := r.do("GET", "/api/v1/agent/queue", agentToken, nil)
	convs, _ := queue.body["conversations"].([]any)
	if len(convs) != 1 {
		t.Fatalf("queue: %v", queue.body)
	}
	p := convs[0].(map[string]any)
	ph := p["handoff"].(map[string]any)
	if ph["summary"] == "" || ph["reason"] != "customer_request" || len(p["transcript"].([]any)) != 4 {
		t.Errorf("context packet incomplete: %v", p)
	}

	if res := r.do("POST", "/api/v1/agent/conversations/"+id+"/claim", agentToken, nil); res.status != http.StatusOK {
		t.Fatalf("claim: %d %v", res.status, res.body)
	}
	if res := r.do("POST", "/api/v1/agent/conversations/"+id+"/claim", otherAgentToken, nil); res.status != http.StatusConflict {
		t.Errorf("second agent's claim: %d, want 409", res.status)
	}
	if conv := r.do("GET", "/api/v1/conversations/"+id, tok, nil); conv.body["agent_name"] != "Alice" {
		t.Errorf("the visitor should learn who holds the conversation: %v", conv.body)
	}
	if res := r.do("POST", "/api/v1/agent/conversations/"+id+"/messages", agentToken, map[string]string{"text": "Hi, I'm Alice. How can I help?"}); res.status != http.StatusAccepted {
		t.Fatalf("agent reply: %d %v", res.status, res.body)
	}
	before := len(r.messages(id, tok))
	r.say(id, tok, "what is your return policy?")
	after := r.messages(id, tok)
	if len(after) != before+1 || after[len(after)-1]["role"] != "customer" {
		t.Errorf("the AI answered after the handoff: %v", after[before:])
	}
	if res := r.do("POST", "/api/v1/agent/conversations/"+id+"/resolve", agentToken, nil); res.status != http.StatusOK {
		t.Fatalf("resolve: %d %v", res.status, res.body)
	}
	if conv := r.do("GET", "/api/v1/conversations/"+id, tok, nil); conv.body["state"] != "resolved" {
		t.Errorf("state after resolve: %v", conv.body["state"])
	}
}

func TestRestrictedTopicHandsOffAtOnce(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	r.say(id, tok, "I was charged twice and want it reversed")
	conv := r.do("GET", "/api/v1/conversations/"+id, tok, nil)
	h, _ := conv.body["handoff"].(map[string]any)
	if conv.body["state"] != "pending_human" || h["trigger"] != "restricted_topic" || h["topic"] != "billing_disputes" {
		t.Fatalf("got %v", conv.body)
	}
}

func TestReturnToAIGivesTheConversationBack(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	r.say(id, tok, "agent please")
	r.do("POST", "/api/v1/agent/conversations/"+id+"/claim", agentToken, nil)
	if res := r.do("POST", "/api/v1/agent/conversations/"+id+"/return-to-ai", agentToken, nil); res.status != http.StatusOK {
		t.Fatalf("return: %d %v", res.status, res.body)
	}
	r.say(id, tok, "How long do I have to return an item?")
	ms := r.messages(id, tok)
	if last := ms[len(ms)-1]; last["role"] != "ai" {
		t.Errorf("the AI should answer again, last message %v", last)
	}
}

func TestDetailsReachTheContextPacket(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	r.say(id, tok, "get me a human")
	res := r.do("POST", "/api/v1/conversations/"+id+"/details", tok, map[string]string{"name": "Ada Lovelace", "email": "ada@example.com", "order_number": "PP-1234"})
	if res.status != http.StatusNoContent {
		t.Fatalf("details: %d %v", res.status, res.body)
	}
	p := r.do("GET", "/api/v1/agent/conversations/"+id, agentToken, nil)
	d, _ := p.body["details"].(map[string]any)
	if d["name"] != "Ada Lovelace" || d["email"] != "ada@example.com" || d["order_number"] != "PP-1234" {
		t.Errorf("details in packet: %v", p.body["details"])
	}
}

func TestStatusCodes(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	other, otherTok := r.start()
	_ = other
	long := strings.Repeat("a", r.live.Web.MaxMessageChars+1)
	tests := []struct {
		name         string
		method, path string
		token        string
		body         any
		want         int
	}{
		{"create: bad channel", "POST", "/api/v1/conversations", "", map[string]string{"channel": "fax"}, 400},
		{"create: invalid JSON", "POST", "/api/v1/conversations", "", "{not json", 400},
		{"create: unknown field", "POST", "/api/v1/conversations", "", `{"channel":"web","x":1}`, 400},
		{"no token", "GET", "/api/v1/conversations/" + id, "", nil, 401},
		{"another conversation's token", "GET", "/api/v1/conversations/" + id, otherTok, nil, 403},
		{"unknown id", "GET", "/api/v1/conversations/nope", tok, nil, 404},
		{"messages: no token", "GET", "/api/v1/conversations/" + id + "/messages", "", nil, 401},
		{"send: invalid JSON", "POST", "/api/v1/conversations/" + id + "/messages", tok, "[1,2", 400},
		{"send: empty", "POST", "/api/v1/conversations/" + id + "/messages", tok, map[string]string{"text": "  "}, 400},
		{"send: too long", "POST", "/api/v1/conversations/" + id + "/messages", tok, map[string]string{"text": long}, 413},
		{"send: body too large", "POST", "/api/v1/conversations/" + id + "/messages", tok, `{"text":"` + strings.Repeat("b", api.MaxBody) + `"}`, 413},
		{"details: bad email", "POST", "/api/v1/conversations/" + id + "/details", tok, map[string]string{"email": "not-an-address"}, 400},
		{"send: NUL", "POST", "/api/v1/conversations/" + id + "/messages", tok, map[string]string{"text": "a\x00b"}, 400},
		{"details: NUL", "POST", "/api/v1/conversations/" + id + "/details", tok, map[string]string{"name": "a\x00b"}, 400},
		{"send: two JSON values", "POST", "/api/v1/conversations/" + id + "/messages", tok, `{"text":"a"}{"text":"b"}`, 400},
		{"agent: no token", "GET", "/api/v1/agent/queue", "", nil, 401},
		{"agent: customer token", "GET", "/api/v1/agent/queue", tok, nil, 401},
		{"agent: unknown id", "POST", "/api/v1/agent/conversations/nope/claim", agentToken, nil, 404},
		{"agent: claim a conversation with the AI", "POST", "/api/v1/agent/conversations/" + id + "/claim", agentToken, nil, 409},
		{"agent: reply without claiming", "POST", "/api/v1/agent/conversations/" + id + "/messages", agentToken, map[string]string{"text": "hi"}, 409},
		{"agent: bad days", "GET", "/api/v1/agent/insights?days=500", agentToken, nil, 400},
		{"settings", "GET", "/api/v1/agent/settings", agentToken, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.do(tt.method, tt.path, tt.token, tt.body)
			if res.status != tt.want {
				t.Fatalf("status %d, want %d (%v)", res.status, tt.want, res.body)
			}
			if tt.want >= 400 && res.body["error"] == nil {
				t.Errorf("error answer without a JSON error: %v", res.body)
			}
		})
	}
}

func TestRateLimitPerConversation(t *testing.T) {
	r := newRig(t, func(l *Live) {
		l.Web.RateLimit.PerConversation.PerSecond = 0.001
		l.Web.RateLimit.PerConversation.Burst = 2
	})
	id, tok := r.start()
	var codes []int
	for range 3 {
		codes = append(codes, r.say(id, tok, "hello").status)
	}
	res := r.say(id, tok, "hello")
	if codes[0] != 202 || codes[1] != 202 || codes[2] != 429 || res.header.Get("Retry-After") == "" {
		t.Errorf("codes %v, last %v", codes, res.header)
	}
}

func TestRateLimitPerIP(t *testing.T) {
	r := newRig(t, func(l *Live) {
		l.Web.RateLimit.PerIP.PerSecond = 0.001
		l.Web.RateLimit.PerIP.Burst = 2
	})
	r.start()
	r.start()
	if res := r.do("POST", "/api/v1/conversations", "", map[string]string{"channel": "web"}); res.status != http.StatusTooManyRequests {
		t.Errorf("third conversation from one address: %d, want 429", res.status)
	}
}

func TestInsightsCountHandoffsAndUnansweredQuestions(t *testing.T) {
	r := newRig(t, nil)
	for _, text := range []string{"I was charged twice and want it reversed", "get me a human"} {
		id, tok := r.start()
		r.say(id, tok, text)
	}
	id, tok := r.start()
	r.say(id, tok, "what will the weather be in Paris tomorrow?")
	res := r.do("GET", "/api/v1/agent/insights?days=7", agentToken, nil)
	if res.status != 200 || res.body["total"].(float64) != 2 {
		t.Fatalf("insights: %v", res.body)
	}
	if bt := res.body["by_trigger"].(map[string]any); bt["restricted_topic"].(float64) != 1 || bt["explicit_request"].(float64) != 1 {
		t.Errorf("by_trigger: %v", bt)
	}
	un := res.body["unanswered"].([]any)
	if len(un) != 1 || !strings.Contains(un[0].(map[string]any)["text"].(string), "weather") {
		t.Errorf("unanswered: %v", un)
	}
}

func TestCORSForAllowedOriginsOnly(t *testing.T) {
	r := newRig(t, nil)
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", r.srv.URL+"/api/v1/conversations", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := preflight("http://localhost:8080"); res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:8080" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("allowed origin: %v", res.Header)
	}
	if res := preflight("https://evil.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a foreign origin got CORS headers: %v", res.Header)
	}
}

// A message the visitor sent while the agent was handing the conversation
// back is answered by the AI once it holds the conversation again.
func TestMessageSentDuringReturnIsAnsweredByTheAI(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	r.say(id, tok, "agent please")
	r.do("POST", "/api/v1/agent/conversations/"+id+"/claim", agentToken, nil)
	r.say(id, tok, "How long do I have to return an item?") // the agent is already clicking "return"
	if res := r.do("POST", "/api/v1/agent/conversations/"+id+"/return-to-ai", agentToken, nil); res.status != http.StatusOK {
		t.Fatalf("return: %d %v", res.status, res.body)
	}
	ms := r.messages(id, tok)
	last := ms[len(ms)-1]
	if last["role"] != "ai" || !strings.Contains(last["text"].(string), "30 days") {
		t.Errorf("the pending question should get the AI's answer; last message %v", last)
	}
}

// A body in anything but JSON is refused with 415, even when it parses.
func TestBodiesMustBeJSON(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json-ish"} {
		req, _ := http.NewRequest("POST", r.srv.URL+"/api/v1/conversations/"+id+"/messages", strings.NewReader(`{"text":"hi"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415", ct, res.StatusCode)
		}
	}
	if ms := r.messages(id, tok); len(ms) != 0 {
		t.Errorf("a refused body was stored: %v", ms)
	}
}

// Details are rate limited like messages: a flood of posts is refused and
// does not fill the transcript.
func TestDetailsAreRateLimited(t *testing.T) {
	r := newRig(t, func(l *Live) {
		l.Web.RateLimit.PerConversation.PerSecond = 0.001
		l.Web.RateLimit.PerConversation.Burst = 3
	})
	id, tok := r.start()
	codes := map[int]int{}
	for range 20 {
		codes[r.do("POST", "/api/v1/conversations/"+id+"/details", tok, map[string]string{"name": "Ada"}).status]++
	}
	if codes[http.StatusNoContent] != 3 || codes[http.StatusTooManyRequests] != 17 {
		t.Errorf("answers %v, want 3 accepted and 17 refused with 429", codes)
	}
	if ms := r.messages(id, tok); len(ms) != 3 {
		t.Errorf("%d details messages stored, want 3", len(ms))
	}
}

// A 409 says who holds the conversation and nothing of the store's inner
// workings.
func TestConflictsSayWhoHoldsItAndNothingInternal(t *testing.T) {
	r := newRig(t, nil)
	id, tok := r.start()
	r.say(id, tok, "agent please")
	r.do("POST", "/api/v1/agent/conversations/"+id+"/claim", agentToken, nil)
	for _, path := range []string{"/claim", "/resolve", "/return-to-ai"} {
		res := r.do("POST", "/api/v1/agent/conversations/"+id+path, otherAgentToken, nil)
		msg, _ := res.body["error"].(string)
		if res.status != http.StatusConflict || msg != "taken by Alice" || res.body["holder"] != "alice" {
			t.Errorf("%s by another agent: %d %v, want 409 naming Alice", path, res.status, res.body)
		}
		for _, leak := range []string{"sqlite", "store:", "held by"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: error %q shows %q", path, msg, leak)
			}
		}
	}
}
