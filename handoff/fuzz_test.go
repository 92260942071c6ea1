package handoff

import "testing"

// FuzzDecide runs arbitrary customer text through every classifier: the
// policy must never panic and must always name a trigger.
func FuzzDecide(f *testing.F) {
	for _, s := range []string{"get me a human", "H U M A N", "I don't want an agent", "!!!???", "ÄÖÜ ß 😡", "a'b'c''", "\x00\xff"} {
		f.Add(s)
	}
	p := policyAt(f, "ai_first")
	f.Fuzz(func(t *testing.T, text string) {
		d := p.Decide(Input{Channel: "web", Messages: []Message{ai(greeting), c(text), ai("ok"), c(text)}})
		if d.Trigger == "" {
			t.Fatalf("empty trigger for %q", text)
		}
	})
}
