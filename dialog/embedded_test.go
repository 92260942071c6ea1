package dialog

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestEmbeddedReplies(t *testing.T) {
	e := NewEmbedded(sampleKnowledge(t), EmbeddedOptions{})
	tests := []struct {
		text       string
		wantSource string
		wantGap    string // "" for a resolved reply
		wantText   string // substring
	}{
		{"How long do I have to return an item?", "return-window", "", "30 days"},
		{"do u ship to cananda", "shipping-international", "", "Canada"},
		{"Hi, I forgot my password", "password-reset", "", "Forgot password"},
		{"hi", "", "", "Parcel & Pine assistant"},
		{"Good morning!", "", "", "How can I help"},
		{"thanks so much!", "", "", "You're welcome"},
		{"ok thanks, bye", "", "", "You're welcome"},
		{"bye", "", "", "Have a great day"},
		{"", "", GapUnclearInstructions, "tell me a bit more"},
		{"   ", "", GapUnclearInstructions, ""},
		{"???", "", GapUnclearInstructions, ""},
		{"I need help", "", GapUnclearInstructions, ""},
		{"12345", "", GapUnclearInstructions, ""},
		{"asdfghjkl", "", GapUnclearInstructions, ""},
		{"what will the weather be in Paris tomorrow?", "", GapMissingKnowledge, "I don't have an answer"},
		{"ok then, can you recommend a good dentist near me", "", GapMissingKnowledge, ""},
		{"can you fix my car", "", GapMissingKnowledge, ""},
		{"do you sell bicycles", "", GapMissingKnowledge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, err := e.Respond(context.Background(), Request{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if r.Source != tt.wantSource || r.Gap != tt.wantGap || r.Unresolved != (tt.wantGap != "") {
				t.Errorf("got source %q gap %q unresolved %v (score %.2f), want source %q gap %q",
					r.Source, r.Gap, r.Unresolved, r.Score, tt.wantSource, tt.wantGap)
			}
			if !strings.Contains(r.Text, tt.wantText) || r.Text == "" {
				t.Errorf("reply %q does not contain %q", r.Text, tt.wantText)
			}
			if r.Score < 0 || r.Score > 1 {
				t.Errorf("score %v outside [0, 1]", r.Score)
			}
		})
	}
}

func TestEmbeddedRespectsCancellation(t *testing.T) {
	e := NewEmbedded(sampleKnowledge(t), EmbeddedOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Respond(ctx, Request{Text: "where is my order"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestEmbeddedMinConfidenceTradesAnswersForHonesty(t *testing.T) {
	kb := sampleKnowledge(t)
	const text = "is it too late to return a rug I bought 3 weeks ago" // a partial match
	lenient, err := NewEmbedded(kb, EmbeddedOptions{MinConfidence: 0.1}).Respond(context.Background(), Request{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	strict, err := NewEmbedded(kb, EmbeddedOptions{MinConfidence: 0.99}).Respond(context.Background(), Request{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if lenient.Unresolved || lenient.Source != "return-window" {
		t.Errorf("lenient: got %+v, want return-window", lenient)
	}
	if !strict.Unresolved || strict.Gap != GapMissingKnowledge || strict.Source != "" {
		t.Errorf("strict: got %+v, want unresolved missing_knowledge", strict)
	}
}

// Replies must not depend on map order, timing or other requests.
func TestEmbeddedIsDeterministicAndSafeForConcurrentUse(t *testing.T) {
	kb := sampleKnowledge(t)
	qs := loadQueries(t, "testdata/queries.jsonl")
	// A separate instance, asked in order, gives the expected replies; the
	// shared one is asked by goroutines interleaving at random.
	ref := NewEmbedded(kb, EmbeddedOptions{})
	want := make([]Reply, len(qs))
	for i, q := range qs {
		want[i], _ = ref.Respond(context.Background(), Request{Text: q.Q})
	}
	shared := NewEmbedded(kb, EmbeddedOptions{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i, q := range qs {
				got, err := shared.Respond(context.Background(), Request{Text: q.Q})
				if err != nil || got != want[i] {
					t.Errorf("%q: got %+v, %v; want %+v", q.Q, got, err, want[i])
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRespond(b *testing.B) {
	e := NewEmbedded(sampleKnowledge(b), EmbeddedOptions{})
	qs := loadQueries(b, "testdata/queries.jsonl")
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := e.Respond(ctx, Request{Text: qs[i%len(qs)].Q}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkNewEmbedded(b *testing.B) {
	kb := sampleKnowledge(b)
	for b.Loop() {
		NewEmbedded(kb, EmbeddedOptions{})
	}
}
