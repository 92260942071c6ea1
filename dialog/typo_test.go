package dialog

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"return", "return", 0},
		{"retrun", "return", 1}, // swap
		{"refnd", "refund", 1},  // deletion
		{"deliverry", "delivery", 1},
		{"warrenty", "warranty", 1},
		{"passport", "password", 2},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
	}
	var scratch [3][]int
	for _, tt := range tests {
		if got := editDistance([]rune(tt.a), []rune(tt.b), &scratch); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSpellerCorrectsTyposOnly(t *testing.T) {
	e := NewEmbedded(sampleKnowledge(t), EmbeddedOptions{})
	tests := []struct {
		word     string
		wantTerm string
		wantOK   bool
	}{
		{"retrun", "return", true},
		{"refnd", "refund", true},
		{"warrenty", "warranty", true},
		{"furnature", "furnitur", true},
		{"somthing", "", true}, // a misspelt stop word: dropped
		{"rent", "", false},    // too short to guess
		{"passport", "", false},
		{"weather", "", false},
		{"bicycle", "", false},
	}
	for _, tt := range tests {
		got, ok := e.speller.correct(tt.word)
		if got != tt.wantTerm || ok != tt.wantOK {
			t.Errorf("correct(%q) = %q, %v; want %q, %v", tt.word, got, ok, tt.wantTerm, tt.wantOK)
		}
	}
}
