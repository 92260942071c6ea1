package dialog

import "testing"

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
