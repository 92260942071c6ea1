package dialog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimalKnowledge = `company: Acme
entries:
  - id: return-window
    question: How long do I have to return an item?
    answer: 30 days.
`

func TestParseKnowledgeRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"empty file", "", []string{"kb.yaml", "file is empty"}},
		{"unknown top-level key", "company: A\nentrys: []\n", []string{"kb.yaml", "line 2", "entrys"}},
		{"misspelt entry key", "company: A\nentries:\n  - id: a\n    question: q?\n    answer: x\n    alternate: [y]\n", []string{"line 6", "alternate"}},
		{"wrong type", "company: A\nentries: {id: a}\n", []string{"kb.yaml", "line 2"}},
		{"no company", "entries:\n  - {id: a, question: return policy, answer: x}\n", []string{"company is required"}},
		{"no entries", "company: A\n", []string{"entries is empty"}},
		{"missing id", "company: A\nentries:\n  - question: return policy\n    answer: x\n", []string{"kb.yaml:3", "entries[0]", "id is required"}},
		{"bad id", "company: A\nentries:\n  - {id: Return Window, question: return policy, answer: x}\n", []string{"entries[0]", `"Return Window"`, "lower-case"}},
		{"missing question", "company: A\nentries:\n  - {id: a, answer: x}\n", []string{"entries[0]", `(id "a")`, "question is required"}},
		{"missing answer", "company: A\nentries:\n  - {id: a, question: return policy}\n", []string{"answer is required"}},
		{"blank answer", "company: A\nentries:\n  - {id: a, question: return policy, answer: '   '}\n", []string{"answer is required"}},
		{"question of stop words only", "company: A\nentries:\n  - {id: a, question: what is it, answer: x}\n", []string{"no searchable words"}},
		{"empty alternate", "company: A\nentries:\n  - {id: a, question: return policy, answer: x, alternates: ['']}\n", []string{"alternates[0] is empty"}},
		{"empty tag", "company: A\nentries:\n  - {id: a, question: return policy, answer: x, tags: [' ']}\n", []string{"tags[0] is empty"}},
		{"bad catalog word", "company: A\ncatalog: ['!!']\nentries:\n  - {id: a, question: return policy, answer: x}\n", []string{"catalog[0]"}},
		{
			"duplicate id",
			"company: A\nentries:\n  - {id: a, question: return policy, answer: x}\n  - {id: b, question: refund time, answer: y}\n  - {id: a, question: ship cost, answer: z}\n",
			[]string{"kb.yaml:5", "entries[2]", `(id "a")`, "duplicate id, first used by entries[0]"},
		},
		{"two documents", minimalKnowledge + "---\ncompany: B\n", []string{"more than one YAML document"}},
		{"not yaml", "company: [\n", []string{"kb.yaml", "line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKnowledge("kb.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			var ke *KnowledgeError
			if !errors.As(err, &ke) {
				t.Errorf("error %T is not a *KnowledgeError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseKnowledgeTrimsAndKeepsEntries(t *testing.T) {
	kb, err := ParseKnowledge("kb.yaml", []byte("company: ' Acme '\nentries:\n  - id: a\n    question: ' Return? '\n    alternates: [' send back ']\n    answer: |\n      30 days.\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := kb.Entries[0]
	if kb.Company != "Acme" || e.Question != "Return?" || e.Answer != "30 days." || e.Alternates[0] != "send back" {
		t.Errorf("fields not trimmed: %+v %+v", kb, e)
	}
}

func TestParseKnowledgeBoundsSize(t *testing.T) {
	big := []byte(minimalKnowledge + "# " + strings.Repeat("x", MaxKnowledgeSize) + "\n")
	_, err := ParseKnowledge("kb.yaml", big)
	if !errors.Is(err, ErrKnowledgeTooLarge) {
		t.Fatalf("got %v, want ErrKnowledgeTooLarge", err)
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKnowledge(path); !errors.Is(err, ErrKnowledgeTooLarge) || !strings.Contains(err.Error(), path) {
		t.Fatalf("LoadKnowledge: got %v, want ErrKnowledgeTooLarge naming the file", err)
	}
}

func TestLoadKnowledgeMissingFile(t *testing.T) {
	_, err := LoadKnowledge(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want os.ErrNotExist", err)
	}
}

func TestShippedKnowledgeIsComplete(t *testing.T) {
	kb := sampleKnowledge(t)
	if kb.Company != "Parcel & Pine" {
		t.Errorf("company %q", kb.Company)
	}
	if len(kb.Entries) < 40 {
		t.Errorf("%d entries, want at least 40", len(kb.Entries))
	}
}

// Restricted topics always go to a human (DESIGN.md), so the sample must not
// teach the AI to answer them.
func TestShippedKnowledgeLeavesRestrictedTopicsToHumans(t *testing.T) {
	restricted := []string{"dispute", "chargeback", "close my account", "close your account",
		"delete my account", "cancel my account", "legal", "lawyer", "lawsuit", "sue "}
	for _, e := range sampleKnowledge(t).Entries {
		asked := strings.ToLower(e.ID + " " + e.Question + " " + strings.Join(e.Alternates, " ") + " " + strings.Join(e.Tags, " "))
		for _, r := range restricted {
			if strings.Contains(asked, r) {
				t.Errorf("entry %s is about %q, a restricted topic", e.ID, r)
			}
		}
	}
}

// FuzzKnowledgeLoad feeds the loader arbitrary files: it must never panic,
// must fail only with a *KnowledgeError naming the file, and whatever it
// accepts must be valid and usable by the embedded responder.
func FuzzKnowledgeLoad(f *testing.F) {
	f.Add([]byte(minimalKnowledge))
	f.Add([]byte("company: A\ncatalog: [sofa]\nentries:\n  - {id: a, question: sofa size, answer: x, tags: [t], alternates: [b]}\n"))
	f.Add([]byte("company: A\nentries:\n  - &e {id: a, question: q, answer: x}\n  - *e\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kb, err := ParseKnowledge("fuzz.yaml", data)
		if err != nil {
			var ke *KnowledgeError
			if !errors.As(err, &ke) || !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q is not a *KnowledgeError naming the file", err)
			}
			return
		}
		ids := make(map[string]bool)
		for _, e := range kb.Entries {
			if e.ID == "" || e.Question == "" || e.Answer == "" || ids[e.ID] {
				t.Fatalf("accepted an invalid entry %+v", e)
			}
			ids[e.ID] = true
		}
		r, err := NewEmbedded(kb, EmbeddedOptions{}).Respond(t.Context(), Request{Text: kb.Entries[0].Question})
		if err != nil {
			t.Fatal(err)
		}
		if r.Source != "" && !ids[r.Source] {
			t.Fatalf("answered from unknown entry %q", r.Source)
		}
	})
}
