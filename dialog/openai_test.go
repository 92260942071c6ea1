package dialog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.uber.org/goleak"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/dialog/openaitest"
)

const testKeyEnv = "SWITCHBOARD_TEST_OPENAI_KEY"

// fakeClock runs retries in no wall time: Sleep records the wait and moves
// Now on by it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// counting is a fallback responder that counts its calls.
type counting struct {
	dialog.Responder
	mu    sync.Mutex
	calls int
}

func (c *counting) Respond(ctx context.Context, req dialog.Request) (dialog.Reply, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Responder.Respond(ctx, req)
}

// openAIRig is an OpenAI responder against a local OpenAI-wire server,
// with the shipped config and knowledge and the embedded fallback.
type openAIRig struct {
	ai       *dialog.OpenAI
	server   *openaitest.Server
	clock    *fakeClock
	fallback *counting
	embedded *dialog.Embedded
	log      *bytes.Buffer
}

func newOpenAIRig(t *testing.T, tune func(*config.OpenAIResponder)) *openAIRig {
	t.Helper()
	t.Setenv(testKeyEnv, "sk-test")
	cfg := dialogtest.Shipped(t)
	kb, err := dialog.LoadKnowledge(cfg.ResolvePath(cfg.Responder.Embedded.Knowledge))
	if err != nil {
		t.Fatal(err)
	}
	r := &openAIRig{server: openaitest.New(t), clock: &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, log: &bytes.Buffer{}}
	r.embedded = dialog.NewEmbedded(kb, dialog.EmbeddedOptions{})
	r.fallback = &counting{Responder: r.embedded}
	oc := config.OpenAIResponder{
		BaseURL: r.server.URL, Model: "gpt-test", APIKeyEnv: testKeyEnv, Timeout: 5 * time.Second,
		MaxRetries: 2, HistoryTokens: 4000, Instructions: "Be brief.",
	}
	if tune != nil {
		tune(&oc)
	}
	r.ai, err = dialog.NewOpenAI(oc, dialog.OpenAIInputs{
		Knowledge: kb, Handoff: cfg.Handoff, Fallback: r.fallback,
		HTTPClient: r.server.Config().HTTPClient.(*http.Client),
		Log:        slog.New(slog.NewTextHandler(r.log, nil)), Clock: r.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const returnsQuestion = "How long do I have to return an item?"

func TestOpenAIReplies(t *testing.T) {
	toolArgs := `{"reason":"missing_tool","summary":"Wants the delivery address of order 1234 changed to 5 Elm St."}`
	cases := []struct {
		name    string
		tune    func(*config.OpenAIResponder)
		queue   []openaitest.ChatReply
		want    dialog.Reply // Text "fallback" means the embedded responder's answer
		calls   int          // requests the server should see
		waits   []time.Duration
		jittery int // instead of waits: this many backoff waits
	}{
		{name: "content", queue: []openaitest.ChatReply{{Content: []string{"You have ", "30 days", " to return an item."}}},
			want: dialog.Reply{Text: "You have 30 days to return an item."}, calls: 1},
		{name: "tool call transfers", queue: []openaitest.ChatReply{{Content: []string{"Let me get a colleague."},
			ToolCalls: []openaitest.ToolCall{{Name: "transfer_to_human", Arguments: toolArgs}}}},
			want: dialog.Reply{Text: "Let me get a colleague.", Transfer: true, TransferReason: "missing_tool",
				Summary: "Wants the delivery address of order 1234 changed to 5 Elm St."}, calls: 1},
		{name: "tool call without words", queue: []openaitest.ChatReply{{
			ToolCalls: []openaitest.ToolCall{{Name: "transfer_to_human", Arguments: `{"reason":"no_such_reason","summary":"x"}`}}}},
			want: dialog.Reply{Transfer: true, Summary: "x"}, calls: 1},
		{name: "429 honours Retry-After", queue: []openaitest.ChatReply{{Status: 429, RetryAfter: "1"}, {Content: []string{"Thirty days."}}},
			want: dialog.Reply{Text: "Thirty days."}, calls: 2, waits: []time.Duration{time.Second}},
		{name: "Retry-After past the deadline falls back at once", queue: []openaitest.ChatReply{{Status: 429, RetryAfter: "30"}},
			want: dialog.Reply{Text: "fallback", Fallback: true}, calls: 1},
		{name: "503 then success backs off", queue: []openaitest.ChatReply{{Status: 503}, {Content: []string{"Thirty days."}}},
			want: dialog.Reply{Text: "Thirty days."}, calls: 2, jittery: 1},
		{name: "500 every time falls back", queue: []openaitest.ChatReply{{Status: 500}, {Status: 500}, {Status: 500}, {Content: []string{"too late"}}},
			want: dialog.Reply{Text: "fallback", Fallback: true}, calls: 3, jittery: 2},
		{name: "no retries configured", tune: func(c *config.OpenAIResponder) { c.MaxRetries = 0 },
			queue: []openaitest.ChatReply{{Status: 502}}, want: dialog.Reply{Text: "fallback", Fallback: true}, calls: 1},
		{name: "401 falls back without retrying", queue: []openaitest.ChatReply{{Status: 401}},
			want: dialog.Reply{Text: "fallback", Fallback: true}, calls: 1},
		{name: "stalled stream hits the deadline", tune: func(c *config.OpenAIResponder) { c.Timeout = time.Second },
			queue: []openaitest.ChatReply{{Content: []string{"Let me ", "check."}, Stall: true}},
			want:  dialog.Reply{Text: "fallback", Fallback: true}, calls: 1},
		{name: "slow start hits the deadline", tune: func(c *config.OpenAIResponder) { c.Timeout = time.Second },
			queue: []openaitest.ChatReply{{Content: []string{"late"}, Delay: time.Minute}},
			want:  dialog.Reply{Text: "fallback", Fallback: true}, calls: 1},
		{name: "malformed chunk falls back", queue: []openaitest.ChatReply{{Content: []string{"Hel", "lo"}, Malformed: true}},
			want: dialog.Reply{Text: "fallback", Fallback: true}, calls: 1},
		{name: "truncated stream falls back", queue: []openaitest.ChatReply{{Content: []string{"You have 30"}, Truncated: true}},
			want: dialog.Reply{Text: "fallback", Fallback: true}, calls: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newOpenAIRig(t, tc.tune)
			r.server.QueueChat(tc.queue...)
			got, err := r.ai.Respond(context.Background(), dialog.Request{ConversationID: "c1", Channel: "web", Text: returnsQuestion})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want.Text == "fallback" {
				fb, err := r.embedded.Respond(context.Background(), dialog.Request{Text: returnsQuestion})
				if err != nil {
					t.Fatal(err)
				}
				fb.Fallback = true
				want = fb
				if !strings.Contains(r.log.String(), "fallback responder answers") || !strings.Contains(r.log.String(), "conversation_id=c1") {
					t.Errorf("the fallback was not logged with the conversation: %s", r.log)
				}
			}
			if got != want {
				t.Errorf("reply\n got %+v\nwant %+v", got, want)
			}
			if n := r.server.Requests(); n != tc.calls {
				t.Errorf("%d requests, want %d", n, tc.calls)
			}
			if calls := r.fallback.calls; (calls > 0) != want.Fallback {
				t.Errorf("fallback called %d times; reply Fallback %v", calls, want.Fallback)
			}
			waits := r.clock.waits()
			switch {
			case tc.jittery > 0:
				if len(waits) != tc.jittery {
					t.Errorf("waits %v, want %d backoffs", waits, tc.jittery)
				}
				for i, w := range waits {
					if hi := 250 * time.Millisecond << i; w < hi/2 || w > hi {
						t.Errorf("backoff %d is %v, want in [%v, %v]", i, w, hi/2, hi)
					}
				}
			case !slices.Equal(waits, tc.waits):
				t.Errorf("waits %v, want %v", waits, tc.waits)
			}
		})
	}
}

// TestOpenAIRequestCarriesToolAndPrompt: the request streams, names the
// model, gives the transfer_to_human tool with its reasons, and starts with
// the system prompt built from the config.
func TestOpenAIRequestCarriesToolAndPrompt(t *testing.T) {
	r := newOpenAIRig(t, nil)
	if _, err := r.ai.Respond(context.Background(), dialog.Request{Channel: "voice", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	reqs := r.server.ChatRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	req := reqs[0]
	if !req.Stream || req.Model != "gpt-test" {
		t.Errorf("stream %v model %q", req.Stream, req.Model)
	}
	if len(req.Tools) != 1 || req.Tools[0].Type != openai.ToolTypeFunction || req.Tools[0].Function.Name != "transfer_to_human" {
		t.Fatalf("tools %+v", req.Tools)
	}
	params := fmt.Sprint(req.Tools[0].Function.Parameters)
	for _, reason := range []string{"customer_request", "missing_knowledge", "missing_tool", "unclear_instructions", "frustration", "restricted_topic", "summary"} {
		if !strings.Contains(params, reason) {
			t.Errorf("tool parameters lack %s: %s", reason, params)
		}
	}
	sys := req.Messages[0]
	for _, want := range []string{"Parcel & Pine", "Be brief.", "phone call", "At the first sign", "billing_disputes", "Q: What do you sell?"} {
		if sys.Role != "system" || !strings.Contains(sys.Content, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
	if last := req.Messages[len(req.Messages)-1]; last.Role != "user" || last.Content != "hi" {
		t.Errorf("last message %+v", last)
	}
}

// TestOpenAIHistoryBudgetFoldsOldTurns: a long conversation goes out as the
// newest turns, whole, after one system message summarising the rest.
func TestOpenAIHistoryBudgetFoldsOldTurns(t *testing.T) {
	r := newOpenAIRig(t, func(c *config.OpenAIResponder) { c.HistoryTokens = 256 })
	req := dialog.Request{Channel: "web", Text: "any news?", History: []dialog.Turn{
		{Role: dialog.RoleCustomer, Text: "My oak table arrived with a cracked leg, order 1234."},
	}}
	for i := range 20 {
		req.History = append(req.History,
			dialog.Turn{Role: dialog.RoleAI, Text: fmt.Sprintf("Reply %d: %s", i, strings.Repeat("words ", 15))},
			dialog.Turn{Role: dialog.RoleCustomer, Text: fmt.Sprintf("Message %d: %s", i, strings.Repeat("words ", 15))})
	}
	req.History = append(req.History, dialog.Turn{Role: dialog.RoleAgent, Text: "Sam from the team here."})
	if _, err := r.ai.Respond(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	msgs := r.server.ChatRequests()[0].Messages
	if len(msgs) < 4 || len(msgs) > 10 {
		t.Fatalf("%d messages sent for %d turns and a budget of 256 tokens", len(msgs), len(req.History))
	}
	fold := msgs[1]
	if fold.Role != "system" || !strings.HasPrefix(fold.Content, "Earlier in this conversation") || !strings.Contains(fold.Content, "cracked leg") {
		t.Errorf("fold is %s %q", fold.Role, fold.Content)
	}
	agent, last := msgs[len(msgs)-2], msgs[len(msgs)-1]
	if agent.Role != "assistant" || agent.Content != "(agent) Sam from the team here." || last.Content != "any news?" {
		t.Errorf("newest turns are %+v, %+v", agent, last)
	}
	if prev := msgs[len(msgs)-3]; prev.Role != "user" || prev.Content != req.History[len(req.History)-2].Text {
		t.Errorf("turn before the agent's not kept whole: %+v", prev)
	}
}

// TestOpenAIStreamsSentences: RespondStream hands over each sentence as it
// completes, and on a fallback the fallback's reply the same way.
func TestOpenAIStreamsSentences(t *testing.T) {
	r := newOpenAIRig(t, nil)
	r.server.QueueChat(
		openaitest.ChatReply{Content: []string{"You have 30", " days. Start a return", " online at parcelandpine.example.", " Anything else?"}},
		openaitest.ChatReply{Status: 400},
	)
	var got []string
	reply, err := r.ai.RespondStream(context.Background(), dialog.Request{Channel: "voice", Text: returnsQuestion}, func(s string) { got = append(got, s) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"You have 30 days.", "Start a return online at parcelandpine.example.", "Anything else?"}
	if !slices.Equal(got, want) || reply.Text != strings.Join(want, " ") {
		t.Errorf("sentences %q (reply %q), want %q", got, reply.Text, want)
	}
	got = nil
	reply, err = r.ai.RespondStream(context.Background(), dialog.Request{Channel: "voice", Text: returnsQuestion}, func(s string) { got = append(got, s) })
	if err != nil {
		t.Fatal(err)
	}
	if !reply.Fallback || len(got) == 0 || strings.Join(got, " ") != strings.Join(strings.Fields(reply.Text), " ") {
		t.Errorf("fallback reply %q delivered as %q", reply.Text, got)
	}
}

// TestOpenAICallerCancelIsAnError: when the caller gives up (the call hung
// up), there is no reply to send, so no fallback either: the error comes
// back, and nothing is left running.
func TestOpenAICallerCancelIsAnError(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the server has closed
	r := newOpenAIRig(t, nil)
	r.server.QueueChat(openaitest.ChatReply{Content: []string{"One moment. "}, Stall: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := r.ai.RespondStream(ctx, dialog.Request{Text: returnsQuestion}, func(string) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if r.fallback.calls != 0 {
		t.Errorf("fallback called %d times after the caller cancelled", r.fallback.calls)
	}
	if _, err := r.ai.Respond(ctx, dialog.Request{Text: returnsQuestion}); !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: err %v", err)
	}
	if n := r.server.Requests(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestOpenAIKeyComesFromTheEnvironment(t *testing.T) {
	cfg := dialogtest.Shipped(t)
	kb, err := dialog.LoadKnowledge(cfg.ResolvePath(cfg.Responder.Embedded.Knowledge))
	if err != nil {
		t.Fatal(err)
	}
	in := dialog.OpenAIInputs{Knowledge: kb, Handoff: cfg.Handoff, Fallback: dialog.NewEmbedded(kb, dialog.EmbeddedOptions{})}
	oc := config.OpenAIResponder{BaseURL: "http://127.0.0.1:1/v1", Model: "m", APIKeyEnv: testKeyEnv, Timeout: time.Second, HistoryTokens: 1000}
	t.Setenv(testKeyEnv, "")
	if _, err := dialog.NewOpenAI(oc, in); err == nil || !strings.Contains(err.Error(), testKeyEnv) {
		t.Errorf("empty key variable: err %v", err)
	}
	oc.APIKeyEnv = "" // a local server without keys
	if _, err := dialog.NewOpenAI(oc, in); err != nil {
		t.Errorf("no key variable: %v", err)
	}
	in.Fallback = nil
	if _, err := dialog.NewOpenAI(oc, in); err == nil {
		t.Error("no fallback: no error")
	}
}

// TestOpenAIConfigValidation checks responder.openai in a copy of the
// shipped config: each mistake is reported on its key.
func TestOpenAIConfigValidation(t *testing.T) {
	shipped, err := os.ReadFile("../configs/switchboard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	block := map[string]string{
		"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini", "api_key_env": "OPENAI_API_KEY", "timeout": "15s",
		"connect_timeout": "3s", "max_retries": "2", "history_tokens": "4000", "temperature": "0.3", "instructions": "Be brief.",
	}
	build := func(kind string, change map[string]string) []byte {
		var b strings.Builder
		b.WriteString("\n  openai:\n")
		keys := slices.Collect(maps.Keys(block))
		for k := range change {
			if _, ok := block[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			v, ok := change[k]
			if !ok {
				v = block[k]
			}
			if v != "-" {
				fmt.Fprintf(&b, "    %s: %s\n", k, v)
			}
		}
		text := strings.Replace(string(shipped), "  kind: embedded ", "  kind: "+kind+" ", 1)
		anchor := "    knowledge: knowledge.yaml   # questions and answers the company edits"
		if !strings.Contains(text, anchor) {
			t.Fatal("shipped config changed: fix the test's anchor")
		}
		return []byte(strings.Replace(text, anchor, anchor+strings.TrimSuffix(b.String(), "\n"), 1))
	}
	cases := []struct {
		kind   string
		change map[string]string
		want   string // "" means valid
	}{
		{"openai", nil, ""},
		{"embedded", map[string]string{"model": "-", "timeout": "0s"}, ""}, // not checked unless used
		{"openai", map[string]string{"api_key_env": "-"}, ""},
		{"openai", map[string]string{"connect_timeout": "-", "temperature": "-"}, ""},
		{"chatgpt", nil, "responder.kind"},
		{"openai", map[string]string{"base_url": "ftp://example.com"}, "responder.openai.base_url"},
		{"openai", map[string]string{"base_url": "api.openai.com/v1"}, "responder.openai.base_url"},
		{"openai", map[string]string{"model": "-"}, "responder.openai.model: is required"},
		{"openai", map[string]string{"api_key_env": "sk-abc123"}, "responder.openai.api_key_env"},
		{"openai", map[string]string{"timeout": "500ms"}, "responder.openai.timeout"},
		{"openai", map[string]string{"timeout": "3m"}, "responder.openai.timeout"},
		{"openai", map[string]string{"connect_timeout": "20s"}, "responder.openai.connect_timeout"},
		{"openai", map[string]string{"max_retries": "6"}, "responder.openai.max_retries"},
		{"openai", map[string]string{"max_retries": "-1"}, "responder.openai.max_retries"},
		{"openai", map[string]string{"history_tokens": "100"}, "responder.openai.history_tokens"},
		{"openai", map[string]string{"history_tokens": "300000"}, "responder.openai.history_tokens"},
		{"openai", map[string]string{"temperature": "2.5"}, "responder.openai.temperature"},
		{"openai", map[string]string{"api_key": "sk-secret"}, "responder.openai.api_key: unknown key"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.kind, tc.change), func(t *testing.T) {
			cfg, err := config.Parse("switchboard.yaml", build(tc.kind, tc.change))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid config rejected: %v", err)
			case tc.want == "":
				if tc.kind == "openai" && cfg.Responder.OpenAI.Timeout != 15*time.Second {
					t.Errorf("timeout decoded as %v", cfg.Responder.OpenAI.Timeout)
				}
			case err == nil:
				t.Fatalf("accepted; want an error on %s", tc.want)
			case !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "switchboard.yaml:"):
				t.Errorf("error %q does not name %s with a line", err, tc.want)
			}
		})
	}
}
