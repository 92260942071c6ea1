package dialog

import (
	"slices"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Where's my ORDER #12345?", []string{"wheres", "my", "order", "12345"}},
		{"don’t  care—really", []string{"dont", "care", "really"}},
		{"Café crème", []string{"café", "crème"}},
		{"'quoted' words", []string{"quoted", "words"}},
		{"", nil},
		{"?!… --", nil},
	}
	for _, tt := range tests {
		if got := words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWordsBoundsLength(t *testing.T) {
	got := words(strings.Repeat("refund ", maxQueryRunes))
	if len(got) > maxQueryRunes/7+1 {
		t.Errorf("%d words from an oversized message, want at most %d", len(got), maxQueryRunes/7+1)
	}
}

// Forms that customers and the knowledge base use for the same thing must
// meet, and different things must stay apart.
func TestStemJoinsForms(t *testing.T) {
	same := [][]string{
		{"deliveries", "delivery"},
		{"shipping", "shipped", "ships", "ship"},
		{"returns", "returned", "returning", "return"},
		{"damaged", "damage"},
		{"changing", "changed", "change"},
		{"boxes", "box"},
		{"addresses", "address"},
		{"bought", "buy"},
		{"colour", "color"},
		{"cancelled", "canceled", "cancel"},
		{"installed", "install"},
	}
	for _, group := range same {
		for _, w := range group[1:] {
			if stem(w) != stem(group[0]) {
				t.Errorf("stem(%q) = %q, stem(%q) = %q: want equal", w, stem(w), group[0], stem(group[0]))
			}
		}
	}
	apart := [][2]string{{"care", "car"}, {"need", "ne"}, {"speed", "spe"}, {"glass", "glas"}, {"status", "statu"}}
	for _, p := range apart {
		if stem(p[0]) == p[1] {
			t.Errorf("stem(%q) = %q: over-stemmed", p[0], p[1])
		}
	}
}

func TestTokenizeDropsStopWordsAndFoldsNegations(t *testing.T) {
	got := tokenize("Hi! I didn't get my refund, can you please help?")
	want := []string{"not", "refund"}
	if !slices.Equal(got, want) {
		t.Errorf("tokenize = %q, want %q", got, want)
	}
}

func TestLooksLikeMashing(t *testing.T) {
	for w, want := range map[string]bool{
		"asdfghjkl": true, "xkcd": true, "zzzz": true, "qwrtp": true,
		"refund": false, "strengths": false, "sofa": false, "café": false,
	} {
		if got := looksLikeMashing(w); got != want {
			t.Errorf("looksLikeMashing(%q) = %v, want %v", w, got, want)
		}
	}
}
