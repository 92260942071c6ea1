package dialog

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current replies")

// TestEmbeddedGolden pins whole replies, text and score included, for a few
// messages of each kind, so that a change in ranking, thresholds or the
// sample knowledge shows up in review as a diff. Run with -update to accept.
func TestEmbeddedGolden(t *testing.T) {
	e := NewEmbedded(sampleKnowledge(t), EmbeddedOptions{})
	cases := map[string]string{
		"answer":        "How long do I have to return an item?",
		"answer-typos":  "whats the warrenty on furnature",
		"answer-long":   "Hi, my lamp arrived broken yesterday, what should I do?",
		"greeting":      "hello there",
		"thanks":        "thank you!",
		"unclear":       "hmm",
		"out-of-scope":  "can you book me a table at a restaurant",
		"restricted":    "please close my account",
		"unknown-thing": "do you sell lawn mowers",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := e.Respond(context.Background(), Request{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("customer: %s\nsource: %q\nscore: %.3f\nunresolved: %v\ngap: %q\nreply: %s\n",
				text, r.Source, r.Score, r.Unresolved, r.Gap, r.Text)
			checkGolden(t, filepath.Join("testdata", "golden", name+".txt"), got)
		})
	}
}

// checkGolden compares got with the golden file at path, or rewrites the
// file under -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s changed (run with -update if intended)\n--- got\n%s--- want\n%s", path, got, want)
	}
}
