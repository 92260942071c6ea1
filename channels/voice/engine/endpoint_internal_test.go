package engine

import "testing"

func TestUnfinished(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"i want to close my", true},
		{"I want to close my account", false},
		{"where is my order and", true},
		{"I need to talk about um", true},
		{"I want to close my...", true},
		{"Can you help me with,", true},
		{"Is that the one I ordered?", false},
		{"I'd like to.", false},
		{"", false},
		{"   ", false},
		{"the", true},
		{"yes", false},
	} {
		if got := unfinished(tc.text); got != tc.want {
			t.Errorf("unfinished(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestJoinWords(t *testing.T) {
	for _, tc := range []struct{ held, next, want string }{
		{"", "hello", "hello"},
		{"i want to close", "my account", "i want to close my account"},
		{"i want to close", "", "i want to close"},
		{"", "", ""},
	} {
		if got := joinWords(tc.held, tc.next); got != tc.want {
			t.Errorf("joinWords(%q, %q) = %q, want %q", tc.held, tc.next, got, tc.want)
		}
	}
}
