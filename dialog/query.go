package dialog

import "strings"

// tuning holds the scoring choices, tuned together with DefaultMinConfidence
// on testdata/queries.jsonl (see TestEmbeddedAccuracy). The plateau was
// wide: nearby values score the same.
type tuning struct {
	// fieldWeights is what one occurrence counts in each field. A word of
	// the way of asking that matched is the strongest evidence; the other
	// phrasings of the entry and its tags back it up; answers mention many
	// side topics.
	fieldWeights [numFields]float64
	// typoWeight discounts a word matched only after typo correction: the
	// correction may be wrong.
	typoWeight float64
	// unknownWeight is how much a word that no entry contains weighs
	// against confidence, as a share of the IDF of a term no entry has.
	unknownWeight float64
	// answerCredit is what a word found only in an entry's answer counts
	// towards confidence, against 1 in its question, alternates or tags.
	answerCredit float64
	// catalogWeight scales catalog and time words in ranking, and
	// catalogCredit in confidence: they tell which product or day the
	// question is about, not which question it is.
	catalogWeight, catalogCredit float64
}

func defaultTuning() tuning {
	return tuning{
		fieldWeights:  [numFields]float64{fieldAsk: 3, fieldAllAsk: 1, fieldTags: 2, fieldAnswer: 0.5},
		typoWeight:    0.8,
		unknownWeight: 1,
		answerCredit:  0.35,
		catalogWeight: 0.1,
		catalogCredit: 0.5,
	}
}

// query is a customer message analysed against the knowledge base.
type query struct {
	terms []queryTerm
	// mass is the IDF of the message's words that are neither catalog nor
	// time words, unknown ones included; confidence is the share of it an
	// entry covers.
	mass float64
	// unknown counts the words that no entry contains, even after typo
	// correction; gibberish counts those that look like keyboard mashing.
	unknown, gibberish int
}

type queryTerm struct {
	term   string
	weight float64 // 1, or typoWeight for a corrected typo
	idf    float64
	// catalog marks catalog and time words: they count towards mass only
	// where an entry has them.
	catalog bool
}

// analyse turns the message's words into weighted index terms. A word given
// twice counts once: "refund refund" does not make the refund entry more
// right.
func (e *Embedded) analyse(ws []string) query {
	var q query
	seen := make(map[string]bool)
	add := func(t string, weight float64) {
		if seen[t] {
			return
		}
		seen[t] = true
		qt := queryTerm{term: t, weight: weight, idf: e.index.idf[t], catalog: e.catalog[t]}
		q.terms = append(q.terms, qt)
		if !qt.catalog {
			q.mass += qt.idf
		}
	}
	for _, w := range ws {
		t, ok := term(w)
		switch {
		case !ok:
		case e.index.has(t) || e.catalog[t]:
			add(t, 1)
		case isDigits(t):
			// Order numbers, prices, dates: they identify, not ask.
		default:
			c, ok := e.speller.correct(w)
			if !ok && t != w {
				c, ok = e.speller.correct(t)
			}
			switch {
			case ok && c == "": // a misspelt stop word
			case ok:
				add(c, e.tuning.typoWeight)
			case !seen[t]:
				seen[t] = true
				q.unknown++
				if looksLikeMashing(w) {
					q.gibberish++
				}
				q.mass += e.tuning.unknownWeight * e.index.missingIDF
			}
		}
	}
	return q
}

// looksLikeMashing reports words such as "asdfgh" or "jjjj": no vowel, six
// consonants in a row, or one letter repeated, which English words next to
// never are ("strengths" has five).
func looksLikeMashing(w string) bool {
	if !isASCIILetters(w) {
		return false
	}
	if !hasVowel(w) || (len(w) > 2 && strings.Count(w, w[:1]) == len(w)) {
		return true
	}
	run := 0
	for i := 0; i < len(w); i++ {
		if isVowel(w[i]) {
			run = 0
			continue
		}
		if run++; run >= 6 {
			return true
		}
	}
	return false
}
