package dialog

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/config"
	"switchboard/handoff"
	"switchboard/store"
)

func shippedConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("../configs/switchboard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// promptFor is the prompt the responder writes for a channel of the
// shipped config and knowledge, with instructions as a company would add.
func promptFor(t *testing.T, h config.Handoff, channel store.Channel) string {
	t.Helper()
	o, err := NewOpenAI(config.OpenAIResponder{
		BaseURL: "http://127.0.0.1:1/v1", Model: "m", Timeout: 10e9, HistoryTokens: 1000,
		Instructions: "Be warm and brief.\nNever promise refunds; explain the returns policy instead.",
	}, OpenAIInputs{Knowledge: sampleKnowledge(t), Handoff: h, Fallback: NewEmbedded(sampleKnowledge(t), EmbeddedOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	return o.systemPrompt(channel)
}

// TestOpenAIPromptGolden pins the system prompt for the shipped config: web
// chat at its level (balanced) in full, and the voice channel (quick)
// without the knowledge, so a change in wording shows up in review as a
// diff. Run with -update to accept.
func TestOpenAIPromptGolden(t *testing.T) {
	h := shippedConfig(t).Handoff
	web := promptFor(t, h, "web")
	voice := promptFor(t, h, "voice")
	voice, _, _ = strings.Cut(voice, "\n# Knowledge\n")
	got := fmt.Sprintf("=== channel web (level %s) ===\n%s\n=== channel voice (level %s), up to the knowledge ===\n%s\n",
		h.Level, web, h.Channels["voice"], voice)
	checkGolden(t, filepath.Join("testdata", "openai_prompt.golden"), got)
}

// TestOpenAIPromptRulesFollowLevel checks that each level's prompt tells the
// model what that level's policy grants, and that restricted topics are
// named on every level.
func TestOpenAIPromptRulesFollowLevel(t *testing.T) {
	h := shippedConfig(t).Handoff
	m := h.Messages
	cases := []struct {
		level    string
		adv      config.Advanced
		want     []string
		dontWant []string
	}{
		{level: "ai_only", want: []string{"Never call transfer_to_human, except for a restricted topic", m.NoTransfer},
			dontWant: []string{"reason customer_request", "transfer_to_human right away"}},
		{level: "quick", want: []string{"reason customer_request", "transfer_to_human right away", "At the first sign"},
			dontWant: []string{"problem statement", "one real attempt"}},
		{level: "balanced", want: []string{"reason customer_request", "first make one real attempt", "stays frustrated"},
			dontWant: []string{"problem statement", "transfer_to_human right away"}},
		{level: "ai_first", want: []string{"complete problem statement", m.AskProblemStatement, "once you have the problem statement",
			"Do not transfer only because the customer is upset"}},
		{level: "advanced", adv: config.Advanced{Enabled: true, HumanRequest: false, Frustration: "off", Unproductive: "off"},
			want:     []string{"say you cannot transfer them here", "do not transfer for that", m.NoTransfer},
			dontWant: []string{"reason customer_request"}},
	}
	for _, tc := range cases {
		t.Run(tc.level, func(t *testing.T) {
			h := h
			h.Level, h.Advanced, h.Channels = tc.level, tc.adv, nil
			p := promptFor(t, h, "web")
			for _, w := range append(tc.want, "restricted_topic", "billing_disputes", "account_cancellation", "legal") {
				if !strings.Contains(p, w) {
					t.Errorf("prompt lacks %q", w)
				}
			}
			for _, w := range tc.dontWant {
				if strings.Contains(p, w) {
					t.Errorf("prompt has %q", w)
				}
			}
		})
	}
}

// TestOpenAIPromptKnowledgeIsBounded: a knowledge base too large for the
// prompt is cut at whole entries and the cut is counted.
func TestOpenAIPromptKnowledgeIsBounded(t *testing.T) {
	var entries []Entry
	for i := range 100 {
		entries = append(entries, Entry{ID: fmt.Sprint("e", i), Question: fmt.Sprintf("Question %d?", i), Answer: strings.Repeat("word ", 100)})
	}
	p, omitted := systemPrompt(promptInput{Company: "Acme", Knowledge: entries, Rules: handoff.RulesFor("quick", config.Advanced{})})
	if omitted == 0 || omitted == len(entries) {
		t.Fatalf("omitted %d of %d entries; want some but not all", omitted, len(entries))
	}
	if len(p) > maxPromptKnowledge+4000 {
		t.Errorf("prompt is %d bytes; the knowledge bound is %d", len(p), maxPromptKnowledge)
	}
	last := len(entries) - omitted - 1
	if !strings.Contains(p, fmt.Sprintf("Q: Question %d?\nA: word", last)) || strings.Contains(p, fmt.Sprintf("Question %d?", last+1)) {
		t.Errorf("entries are not cut whole after entry %d", last)
	}
}

// TestOpenAIHistoryKeepsNewestWhole: within budget every turn goes as is;
// over it the newest turns stay whole and the older ones become one
// "Earlier in this conversation" system message that keeps the opening
// problem, all within the budget.
func TestOpenAIHistoryKeepsNewestWhole(t *testing.T) {
	short := Request{Text: "and now?", History: []Turn{
		{Role: RoleCustomer, Text: "hello"}, {Role: RoleAI, Text: "Hi!"},
		{Role: RoleAgent, Text: "Sam here."}, {Role: RoleSystem, Text: "Transfer failed."},
		{Role: RoleAI, Text: ""},
	}}
	msgs := chatMessages("SYS", short, 1000)
	var got []string
	for _, m := range msgs {
		got = append(got, m.Role+"|"+m.Content)
	}
	want := []string{"system|SYS", "user|hello", "assistant|Hi!", "assistant|(agent) Sam here.", "system|Note: Transfer failed.", "user|and now?"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	long := Request{Text: "so?"}
	long.History = append(long.History, Turn{Role: RoleCustomer, Text: "My oak table arrived with a cracked leg, order 1234."})
	for i := range 60 {
		long.History = append(long.History,
			Turn{Role: RoleAI, Text: fmt.Sprintf("Answer %d: %s", i, strings.Repeat("text ", 40))},
			Turn{Role: RoleCustomer, Text: fmt.Sprintf("Question %d: %s", i, strings.Repeat("more ", 40))})
	}
	const budget = 1000
	msgs = chatMessages("SYS", long, budget)
	fold := msgs[1]
	if fold.Role != "system" || !strings.HasPrefix(fold.Content, "Earlier in this conversation") {
		t.Fatalf("second message is %s %q, want the fold", fold.Role, clip(fold.Content, 80))
	}
	if !strings.Contains(fold.Content, "cracked leg, order 1234") {
		t.Errorf("the fold lost the opening problem: %q", fold.Content)
	}
	used := 0
	for _, m := range msgs[1 : len(msgs)-1] {
		used += estimateTokens(m.Content)
	}
	if used > budget {
		t.Errorf("history is ~%d tokens, over the budget of %d", used, budget)
	}
	kept := msgs[2 : len(msgs)-1]
	if len(kept) < 4 {
		t.Fatalf("only %d turns kept whole", len(kept))
	}
	if last := kept[len(kept)-1]; last.Content != long.History[len(long.History)-1].Text {
		t.Errorf("newest turn not kept whole: %q", last.Content)
	}
	if msgs[len(msgs)-1].Content != "so?" {
		t.Errorf("the new message is not last")
	}
}

// TestOpenAISentences: streamed text is cut into sentences at stops
// followed by a space, not inside numbers, addresses or abbreviations.
func TestOpenAISentences(t *testing.T) {
	cases := []struct {
		deltas []string
		want   []string
	}{
		{[]string{"Hello", " there. How", " can I help?"}, []string{"Hello there.", "How can I help?"}},
		{[]string{"It costs 3.5", "0 euros. See example.com for more."}, []string{"It costs 3.50 euros.", "See example.com for more."}},
		{[]string{"Bring it, e.g. the receipt. Thanks!", "!"}, []string{"Bring it, e.g. the receipt.", "Thanks!!"}},
		{[]string{"He said \"yes.\" Then", " left…", " ok"}, []string{"He said \"yes.\"", "Then left…", "ok"}},
		{[]string{"Line one\nLine two"}, []string{"Line one", "Line two"}},
	}
	for _, tc := range cases {
		var got []string
		var s sentences
		emit := func(x string) { got = append(got, x) }
		for _, d := range tc.deltas {
			s.feed(d, emit)
		}
		s.flush(emit)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: got %q, want %q", tc.deltas, got, tc.want)
		}
	}
}
