package handoff

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"switchboard/config"
)

// Masker hides personal data in context that leaves the store: handoff
// summaries, SIP context headers, packets posted to Slack or forwarded by
// mail. The transcript in the store keeps everything. It masks payment card
// numbers (config handoff.pii.mask_cards) and the admin's own patterns
// (handoff.pii.patterns). A nil *Masker masks nothing. Mask is safe for
// concurrent use.
type Masker struct {
	cards    bool
	patterns []*regexp.Regexp
}

// NewMasker compiles the PII config.
func NewMasker(cfg config.PII) (*Masker, error) {
	m := &Masker{cards: cfg.MaskCards}
	for i, p := range cfg.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("handoff.pii.patterns[%d]: %w", i, err)
		}
		m.patterns = append(m.patterns, re)
	}
	return m, nil
}

// redacted replaces what an admin pattern matches.
const redacted = "[redacted]"

// span is a part of a text to mask; card spans keep their last four digits
// so an agent can match the card the customer means.
type span struct {
	start, end int
	card       bool
}

// Mask returns s with every card number replaced by "[card ending 4242]"
// and every match of an admin pattern by "[redacted]". Cards and patterns
// are found in s as given; where they overlap, the union is "[redacted]".
// Digits that a pattern's match leaves behind are looked at again, so that
// a card glued to what the pattern took does not come out whole.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	var spans []span
	if m.cards {
		spans = cardSpans(s)
	}
	for _, re := range m.patterns {
		for _, loc := range re.FindAllStringIndex(s, -1) {
			if loc[0] < loc[1] {
				spans = append(spans, span{start: loc[0], end: loc[1]})
			}
		}
	}
	out := replace(s, spans)
	if m.cards && len(m.patterns) > 0 && out != s {
		out = replace(out, cardSpans(out))
	}
	return out
}

// replace writes s with its spans replaced by their labels; overlapping
// spans become one "[redacted]" (cards never overlap each other).
func replace(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	var b strings.Builder
	done := 0
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].start < cur.end; i++ {
			cur.end, cur.card = max(cur.end, spans[i].end), false
		}
		b.WriteString(s[done:cur.start])
		if cur.card {
			b.WriteString(cardLabel(s[cur.start:cur.end]))
		} else {
			b.WriteString(redacted)
		}
		done = cur.end
	}
	b.WriteString(s[done:])
	return b.String()
}

// cardLabel names a card by its last four digits.
func cardLabel(number string) string {
	var last []byte
	for i := len(number) - 1; i >= 0 && len(last) < 4; i-- {
		if isDigit(number[i]) {
			last = append(last, number[i])
		}
	}
	slices.Reverse(last)
	return "[card ending " + string(last) + "]"
}

// Card numbers are 13 to 19 digits, written in one piece or in groups
// separated by one space or dash ("4242 4242 4242 4242", "3782-822463-10005")
// or one digit at a time as a speech recogniser writes them, and pass the
// Luhn check. Order and phone numbers that fail it are left alone.
const (
	minCardDigits = 13
	maxCardDigits = 19
)

// cardLengthRank orders the readings of one run of digit groups by how
// common a card of that length is, so that "4242 4242 4242 4242 123" (a
// card, then its security code) masks the 16 digits and not 19 that happen
// to pass Luhn too: 16 (Visa, Mastercard, Discover), 15 (Amex), 19, 14, 13,
// 17, 18.
var cardLengthRank = map[int]int{16: 0, 15: 1, 19: 2, 14: 3, 13: 4, 17: 5, 18: 6}

// group is a maximal run of ASCII digits, s[start:end].
type group struct{ start, end int }

// cardSpans finds the card numbers in s, in no particular order.
func cardSpans(s string) []span {
	var out []span
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		run := digitRun(s, i)
		// A run after "+" begins with a country code: a phone number.
		out = append(out, cardsInRun(s, run, i > 0 && s[i-1] == '+')...)
		i = run[len(run)-1].end
	}
	return out
}

// digitRun returns the groups of digits from s[i], each separated from the
// next by one space or dash.
func digitRun(s string, i int) []group {
	var run []group
	for {
		g := group{start: i}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		g.end = i
		run = append(run, g)
		if i+1 >= len(s) || (s[i] != ' ' && s[i] != '-') || !isDigit(s[i+1]) {
			return run
		}
		i++
	}
}

// cardsInRun picks the card numbers of one run: of the readings that start
// and end on group boundaries and pass Luhn, the likeliest length first,
// then the leftmost, none overlapping another. phone excludes readings that
// start at the run's first group.
func cardsInRun(s string, run []group, phone bool) []span {
	type reading struct{ first, last, digits int }
	var rs []reading
	for a := range run {
		if a == 0 && phone {
			continue
		}
		n := 0
		for b := a; b < len(run); b++ {
			if n += run[b].end - run[b].start; n > maxCardDigits {
				break
			}
			if n >= minCardDigits && luhn(s[run[a].start:run[b].end]) {
				rs = append(rs, reading{a, b, n})
			}
		}
	}
	slices.SortStableFunc(rs, func(x, y reading) int { return cmp.Compare(cardLengthRank[x.digits], cardLengthRank[y.digits]) })
	var out []span
	taken := make([]bool, len(run))
	for _, r := range rs {
		if slices.Contains(taken[r.first:r.last+1], true) {
			continue
		}
		for g := r.first; g <= r.last; g++ {
			taken[g] = true
		}
		out = append(out, span{start: run[r.first].start, end: run[r.last].end, card: true})
	}
	return out
}

// luhn reports whether the digits of s pass the Luhn check; other bytes
// (separators) are skipped.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		if !isDigit(s[i]) {
			continue
		}
		d := int(s[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
