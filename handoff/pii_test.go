package handoff

import (
	"strings"
	"testing"
	"unicode/utf8"

	"switchboard/config"
)

func TestMaskHidesCardsAndAdminPatterns(t *testing.T) {
	cards := masker(t, config.PII{MaskCards: true})
	both := masker(t, config.PII{MaskCards: true, Patterns: []string{`\b[A-Z]{2}\d{6}[A-Z]\b`, `secret-\w+`, `\bPIN \d{4}\b`}})
	patternsOnly := masker(t, config.PII{Patterns: []string{`\d{3}-\d{2}-\d{4}`, `\d{2}-\d{4}`}})
	for _, tc := range []struct {
		name string
		m    *Masker
		in   string
		want string
	}{
		{"visa in one piece", cards, "my card is 4242424242424242.", "my card is [card ending 4242]."},
		{"spaces", cards, "card 4111 1111 1111 1111 please", "card [card ending 1111] please"},
		{"dashes", cards, "5555-5555-5555-4444", "[card ending 4444]"},
		{"amex 4-6-5", cards, "amex 3782 822463 10005 ok", "amex [card ending 0005] ok"},
		{"13 digits", cards, "old visa 4222222222222", "old visa [card ending 2222]"},
		{"digit by digit, as speech writes it", cards, "it's 4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2 thanks", "it's [card ending 4242] thanks"},
		{"glued to words", cards, "card4242424242424242x", "card[card ending 4242]x"},
		{"two cards", cards, "4242424242424242 or 6011111111111117", "[card ending 4242] or [card ending 1117]"},
		{"fails Luhn: one digit off", cards, "4242424242424241", "4242424242424241"},
		{"fails Luhn: order number", cards, "order 1234567890123 is late", "order 1234567890123 is late"},
		{"fails Luhn: phone number", cards, "call 0044 20 7946 0958", "call 0044 20 7946 0958"},
		{"phone after +, though it passes Luhn", cards, "call +44207946090007", "call +44207946090007"},
		{"card after a phone number after +", cards, "+1 555 4242 4242 4242 4242", "+1 555 [card ending 4242]"},
		{"12 digits", cards, "424242424242", "424242424242"},
		{"20 digits", cards, "42424242424242424242", "42424242424242424242"},
		{"two separators are not one number", cards, "4242  4242  4242  4242", "4242  4242  4242  4242"},
		{"security code after: the 16 digits, not 19 that pass too", cards, "4242 4242 4242 4242 006", "[card ending 4242] 006"},
		{"a number before: the 16 digits, not 15 or 19 that pass too", cards, "ref 109 4242 4242 4242 4242", "ref 109 [card ending 4242]"},
		{"cards off", masker(t, config.PII{}), "4242424242424242", "4242424242424242"},
		{"nil masker", nil, "4242424242424242", "4242424242424242"},
		{"pattern", both, "NI number QQ123456C.", "NI number [redacted]."},
		{"patterns and a card", both, "secret-abc, PIN 1234, card 4242 4242 4242 4242",
			"[redacted], [redacted], card [card ending 4242]"},
		{"pattern overlapping a card hides it all", both, "secret-4242424242424242 and more", "[redacted] and more"},
		{"pattern inside a card hides it all", masker(t, config.PII{MaskCards: true, Patterns: []string{`5555 44`}}),
			"card 5555 5555 5555 4444 now", "card [redacted] now"},
		{"a card glued to what a pattern takes", masker(t, config.PII{MaskCards: true, Patterns: []string{`\d{3}-\d{2}-\d{4}`}}),
			"4111111111111111010-00-0000", "[card ending 1111][redacted]"},
		{"overlapping patterns are one", patternsOnly, "ssn 123-45-6789 end", "ssn [redacted] end"},
		{"pattern not matching", both, "nothing to hide here", "nothing to hide here"},
		{"empty matches are ignored", masker(t, config.PII{Patterns: []string{`x*`}}), "abc", "abc"},
		{"unicode around", cards, "Kártya: 4242-4242-4242-4242 ✓", "Kártya: [card ending 4242] ✓"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.Mask(tc.in); got != tc.want {
				t.Errorf("Mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewMaskerRefusesABadPattern(t *testing.T) {
	_, err := NewMasker(config.PII{Patterns: []string{`ok`, `(unclosed`}})
	if err == nil || !strings.Contains(err.Error(), "handoff.pii.patterns[1]") {
		t.Fatalf("err = %v, want one naming handoff.pii.patterns[1]", err)
	}
}

// FuzzMask: whatever the text, masking never panics, keeps valid UTF-8
// valid, leaves no card number behind, and masking again changes nothing.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"4242 4242 4242 4242", "+44207946090007", "secret-x 4111-1111-1111-1111 123-45-6789",
		"4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2", "ref 109 4242 4242 4242 4242 006", "Kártya: 4242-4242-4242-4242 ✓"} {
		f.Add(s)
	}
	m := masker(f, config.PII{MaskCards: true, Patterns: []string{`secret-\w+`, `\d{3}-\d{2}-\d{4}`}})
	f.Fuzz(func(t *testing.T, s string) {
		got := m.Mask(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Mask(%q) = %q: invalid UTF-8", s, got)
		}
		if again := m.Mask(got); again != got {
			t.Fatalf("Mask(%q) = %q, masked again %q", s, got, again)
		}
		for _, sp := range cardSpans(got) {
			t.Fatalf("Mask(%q) = %q leaves a card at %d:%d", s, got, sp.start, sp.end)
		}
	})
}

func masker(t testing.TB, cfg config.PII) *Masker {
	t.Helper()
	m, err := NewMasker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
