package dialog

import (
	"math"
	"sort"

	"github.com/hbollon/go-edlib"
)

// speller corrects misspelt words against the words of the knowledge base.
// It knows each surface word ("shipping") and its term ("ship"), so that a
// typo is corrected before stemming can mangle it further ("expres" would
// stem to "expr", far from "express"), and the stop words, so that
// "somthing" is dropped like "something" instead of counted as unknown.
type speller struct {
	words []spellWord // sorted by text, so that ties resolve the same way every time
}

type spellWord struct {
	text  string
	runes []rune
	term  string  // index term it stands for; "" for a stop word
	idf   float64 // of term, to prefer the commoner word on a tie
}

// newSpeller builds a speller from the knowledge base's words (as words
// returns them) and the index that gives their terms' IDF.
func newSpeller(kbWords []string, ix *bm25Index, catalog map[string]bool) *speller {
	byText := make(map[string]spellWord)
	add := func(w, term string) {
		if _, dup := byText[w]; dup || len([]rune(w)) < 5 {
			return
		}
		idf := math.Inf(1)
		if term != "" {
			idf = ix.idf[term] // 0 for a catalog word no entry has
		}
		byText[w] = spellWord{text: w, runes: []rune(w), term: term, idf: idf}
	}
	// A stop word loses every tie: a content word misread as one ("oder" as
	// "over" rather than "order") would vanish from the query.
	for w := range stopWords {
		add(w, "")
	}
	for _, w := range kbWords {
		if t, ok := term(w); ok && (ix.has(t) || catalog[t]) {
			add(w, t)
			add(t, t)
		}
	}
	sp := &speller{words: make([]spellWord, 0, len(byText))}
	for _, sw := range byText {
		sp.words = append(sp.words, sw)
	}
	sort.Slice(sp.words, func(i, j int) bool { return string(sp.words[i].runes) < string(sp.words[j].runes) })
	return sp
}

// correct finds the known word w most likely stands for, and returns its
// term ("" for a stop word). It accepts the closest word by edit distance
// (with swaps, the commonest typo), within 1 edit for words of 5 to 8
// letters and 2 from 9 letters on, with the same first letter. Shorter
// words are left alone: there one edit turns most words into another real
// word ("rent" into "rest"), as two do at eight letters ("passport" into
// "password"). Ties go to the commoner word, and never to a stop word.
func (sp *speller) correct(w string) (term string, ok bool) {
	q := []rune(w)
	maxDist := 0
	switch {
	case len(q) >= 9:
		maxDist = 2
	case len(q) >= 5:
		maxDist = 1
	default:
		return "", false
	}
	var best *spellWord
	bestDist := maxDist + 1
	for i := range sp.words {
		c := sp.words[i].runes
		if c[0] != q[0] || abs(len(c)-len(q)) > maxDist {
			continue
		}
		// Optimal string alignment: insertions, deletions, substitutions
		// and swaps of adjacent letters each cost one.
		d := edlib.OSADamerauLevenshteinDistance(w, sp.words[i].text)
		if d < bestDist || (d == bestDist && best != nil && sp.words[i].idf < best.idf) {
			best, bestDist = &sp.words[i], d
		}
	}
	if best == nil {
		return "", false
	}
	return best.term, true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
