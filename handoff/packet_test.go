package handoff

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/store"
)

const card = "4242 4242 4242 4242"

func packetFixture() Packet {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := store.Conversation{ID: "c-1", Channel: "web", Customer: "visitor-9", State: store.StatePendingHuman, CreatedAt: at, UpdatedAt: at.Add(time.Minute)}
	details := CustomerDetails{Name: "Ada", Phone: "0044 20 7946 0958", OrderNumber: "4111111111111111"}
	ms := []store.Message{
		{ID: 1, ConversationID: c.ID, Role: store.RoleCustomer, Text: "I was charged twice on " + card, CreatedAt: at},
		{ID: 2, ConversationID: c.ID, Role: store.RoleAI, Text: "Let me get someone.", CreatedAt: at},
		{ID: 3, ConversationID: c.ID, Role: store.RoleSystem, Text: details.Text(), CreatedAt: at},
	}
	hs := []store.Handoff{
		{ConversationID: c.ID, Trigger: "explicit_request", Reason: "customer_request", Summary: "Charged twice on " + card,
			Status: store.HandoffPending, Target: "agent_console", Sentiment: -0.4, CreatedAt: at},
		{ConversationID: c.ID, Trigger: "explicit_request", Reason: "customer_request", Summary: "callback",
			Status: store.HandoffFollowUp, Target: "callback", Sentiment: -0.6, CreatedAt: at},
	}
	return BuildPacket(c, ms, hs, "/agent?conversation=c-1")
}

func TestBuildPacket(t *testing.T) {
	p := packetFixture()
	if p.ConversationID != "c-1" || p.Link != "/agent?conversation=c-1" || p.State != "pending_human" || p.Channel != "web" ||
		p.Customer != "visitor-9" || p.Language != "en" || p.Sentiment != -0.6 {
		t.Errorf("packet = %+v", p)
	}
	if p.Handoff == nil || p.Handoff.Target != "agent_console" || p.Handoff.Summary != "Charged twice on "+card {
		t.Errorf("handoff = %+v, want the pending one, not the follow-up", p.Handoff)
	}
	if p.Details == nil || p.Details.Name != "Ada" || p.Details.OrderNumber != "4111111111111111" {
		t.Errorf("details = %+v", p.Details)
	}
	if len(p.Transcript) != 3 || p.Transcript[0].Role != "customer" || p.Transcript[2].ID != 3 {
		t.Errorf("transcript = %+v", p.Transcript)
	}
	if empty := BuildPacket(store.Conversation{ID: "c-2"}, nil, nil, ""); empty.Transcript == nil || empty.Handoff != nil || empty.Details != nil {
		t.Errorf("packet of a new conversation = %+v", empty)
	}
}

// The console and the API read these names; they are today's packet's
// plus sentiment and language.
func TestPacketJSONNames(t *testing.T) {
	b, err := json.Marshal(packetFixture())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"agent", "channel", "created_at", "customer", "details", "handoff", "id", "language", "link",
		"sentiment", "state", "transcript", "updated_at"}
	if keys := sortedKeys(got); !slices.Equal(keys, want) {
		t.Errorf("packet keys %v, want %v", keys, want)
	}
	var inner struct {
		Handoff    map[string]any   `json:"handoff"`
		Details    map[string]any   `json:"details"`
		Transcript []map[string]any `json:"transcript"`
	}
	if err := json.Unmarshal(b, &inner); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		m    map[string]any
		want []string
	}{
		{"handoff", inner.Handoff, []string{"agent", "created_at", "reason", "sentiment", "status", "summary", "target", "topic", "trigger"}},
		{"details", inner.Details, []string{"name", "order_number", "phone"}},
		{"message", inner.Transcript[0], []string{"created_at", "id", "role", "text"}},
	} {
		if keys := sortedKeys(tc.m); !slices.Equal(keys, tc.want) {
			t.Errorf("%s keys %v, want %v", tc.what, keys, tc.want)
		}
	}
}

// A packet sent outside (Slack, mail) has the card masked in the summary,
// the transcript and the details; the packet it was made from keeps it.
func TestPacketMasked(t *testing.T) {
	m, err := NewMasker(config.PII{MaskCards: true, Patterns: []string{`\bAda\b`}})
	if err != nil {
		t.Fatal(err)
	}
	p := packetFixture()
	got := p.Masked(m)
	if want := "Charged twice on [card ending 4242]"; got.Handoff.Summary != want {
		t.Errorf("summary %q, want %q", got.Handoff.Summary, want)
	}
	if want := "I was charged twice on [card ending 4242]"; got.Transcript[0].Text != want {
		t.Errorf("message %q, want %q", got.Transcript[0].Text, want)
	}
	if want := "Customer details: Name: [redacted]; Phone: 0044 20 7946 0958; Order number: [card ending 1111]"; got.Transcript[2].Text != want {
		t.Errorf("details message %q, want %q", got.Transcript[2].Text, want)
	}
	if want := (CustomerDetails{Name: "[redacted]", Phone: "0044 20 7946 0958", OrderNumber: "[card ending 1111]"}); *got.Details != want {
		t.Errorf("details %+v, want %+v", *got.Details, want)
	}
	if got.Transcript[1] != p.Transcript[1] || got.ConversationID != p.ConversationID || got.Handoff.Reason != p.Handoff.Reason {
		t.Errorf("masking changed what it should not: %+v", got)
	}
	if again := packetFixture(); !strings.Contains(p.Handoff.Summary, card) || !strings.Contains(p.Transcript[0].Text, card) ||
		*p.Details != *again.Details {
		t.Errorf("the original packet was masked too: %+v", p)
	}
	if nilMasked := p.Masked(nil); nilMasked.Handoff.Summary != p.Handoff.Summary {
		t.Errorf("a nil masker changed the summary to %q", nilMasked.Handoff.Summary)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
