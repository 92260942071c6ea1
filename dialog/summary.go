package dialog

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"switchboard/handoff"
	"switchboard/store"
)

// maxSummary bounds a summary: it travels in SIP headers and chat cards.
const maxSummary = 500

// Summarize writes the extractive summary a human gets with a handoff: why
// it was handed off, what the customer first raised, and what they said
// last, in their own words. An LLM summary replaces it when one is
// configured.
func Summarize(msgs []store.Message, d handoff.Decision) string {
	var first, last string
	var n int
	for _, m := range msgs {
		if m.Role != store.RoleCustomer {
			continue
		}
		n++
		text := strings.Join(strings.Fields(m.Text), " ")
		if first == "" && len(strings.Fields(text)) >= 3 {
			first = text
		}
		last = text
	}
	if first == "" {
		first = last
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Handed off on %s", strings.ReplaceAll(string(d.Trigger), "_", " "))
	if d.Topic != "" {
		fmt.Fprintf(&b, " (%s)", d.Topic)
	}
	fmt.Fprintf(&b, ", customer sentiment %s, after %d customer message(s).", handoff.SentimentLabel(d.Sentiment), n)
	if first != "" {
		fmt.Fprintf(&b, " Customer: %q", clip(first, 200))
	}
	if last != "" && last != first {
		fmt.Fprintf(&b, " Latest: %q", clip(last, 160))
	}
	return clip(b.String(), maxSummary)
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
