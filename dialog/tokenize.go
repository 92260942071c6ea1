package dialog

import (
	"strings"
	"unicode"
)

// maxQueryRunes bounds how much of a message is analysed. A customer who
// pastes a whole email still gets an answer about its first paragraphs, and
// scoring time stays flat.
const maxQueryRunes = 2000

// words splits text into lower-case runs of letters and digits. Apostrophes
// inside a word are dropped rather than split on, so "don't" and "dont", or
// "customer's" and "customers", come out the same.
func words(text string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	n := 0
	for _, r := range text {
		if n++; n > maxQueryRunes {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && cur.Len() > 0:
			// inside or after a word: skip it
		default:
			flush()
		}
	}
	flush()
	return out
}

// tokenize turns text into the terms the index compares: words without stop
// words and single letters, stemmed, negations folded into notTerm.
func tokenize(text string) []string {
	ws := words(text)
	out := ws[:0]
	for _, w := range ws {
		if t, ok := term(w); ok {
			out = append(out, t)
		}
	}
	return out
}

// term returns the index term for one word of words, and false for a word
// that is not indexed.
func term(w string) (string, bool) {
	switch {
	case negation(w):
		return notTerm, true
	case isStopWord(w), len(w) == 1 && !isDigits(w):
		return "", false
	}
	return stem(w), true
}

func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

// stem strips the common English inflections (plural -s/-es/-ies, -ing, -ed)
// and a silent final e, so that "deliveries"/"delivery", "shipping"/"ship"
// and "damaged"/"damage" meet. It is deliberately lighter than Porter: FAQ
// questions are short, and over-stemming ("general"→"gener") merges topics
// that a customer keeps apart. Words with letters outside a-z are kept whole:
// the rules are English ones.
func stem(w string) string {
	if base, ok := irregular[w]; ok {
		w = base
	}
	if len(w) <= 3 || !isASCIILetters(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"),
		strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") &&
		!strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	switch {
	case strings.HasSuffix(w, "eed"):
		// "need", "speed": not a past tense
	case strings.HasSuffix(w, "ing") && hasVowel(w[:len(w)-3]) && len(w) > 5:
		w = undouble(w[:len(w)-3])
	case strings.HasSuffix(w, "ed") && hasVowel(w[:len(w)-2]) && len(w) > 4:
		w = undouble(w[:len(w)-2])
	}
	// A silent e goes only when four letters stay, so that "change" and
	// "changing" meet but "care" does not become "car".
	if len(w) > 4 && strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "ee") && !isVowel(w[len(w)-2]) {
		w = w[:len(w)-1]
	}
	return w
}

// undouble turns "shipp" back into "ship" after -ing/-ed, but keeps l, s and
// z doubled as Porter does ("install", "press", "buzz").
func undouble(w string) string {
	n := len(w)
	if n >= 2 && w[n-1] == w[n-2] && !isVowel(w[n-1]) && !strings.ContainsRune("lsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func isASCIILetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

func isVowel(c byte) bool { return strings.IndexByte("aeiouy", c) >= 0 }

func hasVowel(w string) bool { return strings.ContainsAny(w, "aeiouy") }

// irregular maps the irregular past forms and British spellings that
// customers use for words the knowledge base has in another form ("I bought
// it" against "buy"). Suffix rules cannot find these. Read-only.
var irregular = map[string]string{
	"bought": "buy", "paid": "pay", "sent": "send", "broke": "break",
	"broken": "break", "came": "come", "found": "find", "gave": "give",
	"given": "give", "took": "take", "taken": "take", "made": "make",
	"chose": "choose", "chosen": "choose", "stolen": "steal", "stole": "steal",
	"lost": "lose", "kept": "keep", "left": "leave", "ran": "run",
	"colour": "color", "colours": "colors", "personalized": "personalised",
	"personalize": "personalise", "cancelled": "cancel", "cancelling": "cancel",
	"canceled": "cancel", "canceling": "cancel", "jewellery": "jewelry",
	"catalogue": "catalog", "favourite": "favorite", "centre": "center",
}
