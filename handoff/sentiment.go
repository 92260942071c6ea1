package handoff

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/jonreiter/govader"
)

// sentimentAnalyzer scores a message from -1 (angry) to 1 (pleased) with
// VADER, a lexicon and rule-based model made for short social-media text:
// it handles negation, intensifiers, capitals and exclamation marks, which
// is how frustrated customers write.
type sentimentAnalyzer struct {
	vader *govader.SentimentIntensityAnalyzer
}

func newSentimentAnalyzer() *sentimentAnalyzer {
	return &sentimentAnalyzer{vader: govader.NewSentimentIntensityAnalyzer()}
}

func (s *sentimentAnalyzer) score(text string) float64 {
	return s.vader.PolarityScores(text).Compound
}

// profane lists swearing by word stem; a token starting with one of them
// counts ("fucking", "shitty"), as do the usual disguises.
var profane = []string{"fuck", "fck", "fuk", "f*ck", "wtf", "shit", "sh*t", "bullshit", "crap", "damn", "bastard",
	"asshole", "arse", "piss", "bitch", "dick", "ffs", "stfu", "goddamn", "bollocks", "wank", "twat", "hell"}

// censored matches swearing with its letters starred out ("f***", "sh*t"),
// which the tokenizer would otherwise split into harmless pieces.
var censored = regexp.MustCompile(`(?i)\b[a-z]+\*+[a-z]*\b|\b[a-z]\*{2,}`)

func profanity(text string, toks []token) bool {
	if censored.MatchString(text) {
		return true
	}
	for i, t := range toks {
		for _, p := range profane {
			if strings.HasPrefix(t.Word, p) && (p != "hell" || t.Word == "hell") && (p != "dick" || t.Word == "dick") {
				return true
			}
		}
		if t.Word == "screw" && i+1 < len(toks) && (toks[i+1].Word == "you" || toks[i+1].Word == "this") {
			return true
		}
	}
	return false
}

// shouting is a message mostly in capitals, or with a run of exclamation
// marks.
func shouting(text string) bool {
	if strings.Contains(text, "!!!") {
		return true
	}
	upper, letters, capsWords := 0, 0, 0
	for _, w := range strings.Fields(text) {
		n, u := 0, 0
		for _, r := range w {
			if unicode.IsLetter(r) {
				n++
				if unicode.IsUpper(r) {
					u++
				}
			}
		}
		letters += n
		upper += u
		if n >= 2 && u == n {
			capsWords++
		}
	}
	return capsWords >= 2 && letters >= 8 && float64(upper) >= 0.7*float64(letters)
}

// similar says whether two messages are near-repeats: the customer asking
// the same thing again because the answer did not help. The shorter one's
// content words (stemmed, from contentSet) must nearly all be in the longer
// one.
func similar(wa, wb map[string]bool) bool {
	if len(wa) > len(wb) {
		wa, wb = wb, wa
	}
	if len(wa) < 2 {
		return false
	}
	inter := 0
	for w := range wa {
		if wb[w] {
			inter++
		}
	}
	return float64(inter) >= 0.75*float64(len(wa))
}

func contentSet(toks []token) map[string]bool {
	s := map[string]bool{}
	for _, t := range toks {
		if !stopwords[t.Word] && len(t.Word) > 1 {
			s[t.Stem] = true
		}
	}
	return s
}
