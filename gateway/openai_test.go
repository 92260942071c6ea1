package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"switchboard/dialog"
	"switchboard/dialog/openaitest"
	"switchboard/store"
)

// With responder.kind openai the model answers through go-openai; its
// transfer tool hands off within the level (balanced: after a real attempt),
// and its summary is what the agent queue shows.
func TestOpenAIResponderSummaryReachesTheAgentQueue(t *testing.T) {
	ai := openaitest.New(t)
	t.Setenv("SB_TEST_OPENAI_KEY", "test-key")
	t.Setenv("SWITCHBOARD_AGENT_TOKEN", "queue-test-token")
	cfg := fixture(t)
	edit(t, cfg, "  kind: embedded ", "  openai:\n    base_url: "+ai.URL+"\n    model: test-model\n"+
		"    api_key_env: SB_TEST_OPENAI_KEY\n    timeout: 10s\n    connect_timeout: 0s\n    max_retries: 0\n"+
		"    history_tokens: 4000\n    temperature: 0\n    instructions: Be brief.\n  kind: openai ")
	summary := "Wants the delivery address of order 1234 changed to 5 Elm Street."
	ai.QueueChat(openaitest.ChatReply{Content: []string{"Orders ship ", "within two days."}},
		openaitest.ChatReply{ToolCalls: []openaitest.ToolCall{{ID: "call_1", Name: "transfer_to_human",
			Arguments: `{"reason":"missing_tool","summary":"` + summary + `"}`}}})
	g, stop := start(t, cfg)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx := context.Background()
	conv, err := g.Store().CreateConversation(ctx, store.Conversation{Channel: "web", Customer: "visitor-7"})
	if err != nil {
		t.Fatal(err)
	}
	var out dialog.Outcome
	for _, text := range []string{"when will my order ship", "please change the delivery address on order 1234"} {
		if out, err = g.Conductor().CustomerMessage(ctx, dialog.Inbound{ConversationID: conv.ID, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if out.Handoff == nil || out.Handoff.Summary != summary || out.Handoff.Reason != "missing_tool" {
		t.Fatalf("handoff = %+v (decision %+v)", out.Handoff, out.Decision)
	}
	if n := len(ai.ChatRequests()); n != 2 {
		t.Fatalf("%d chat requests, want 2", n)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.HTTPAddr()+"/api/v1/agent/queue", nil)
	req.Header.Set("Authorization", "Bearer queue-test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), summary) {
		t.Fatalf("queue %d: %s", resp.StatusCode, body)
	}
}
