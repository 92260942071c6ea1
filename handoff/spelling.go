package handoff

import "github.com/hbollon/go-edlib"

// vocabulary is the small set of words whose misspellings matter most to
// the classifiers: the words of asking for a person. Customers misspell
// them ("reprisentative", "opperator", "aegnt", "humen") and a model that
// has only seen the right spelling would miss the request.
var vocabulary = []string{
	"human", "person", "agent", "representative", "operator", "someone", "somebody", "supervisor",
	"manager", "customer", "service", "speak", "talk", "transfer", "connect", "people", "employee",
	"associate", "staff", "real", "actual", "support", "please", "department",
}

var vocabularySet = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range vocabulary {
		m[w] = true
	}
	return m
}()

var vocabularyLetters = func() [][26]int8 {
	out := make([][26]int8, len(vocabulary))
	for i, w := range vocabulary {
		out[i] = letters(w)
	}
	return out
}()

// vocabularyByLetter indexes the vocabulary by first letter: misspellings
// almost always keep it, and it spares most words any comparison.
var vocabularyByLetter = func() map[byte][]int {
	m := map[byte][]int{}
	for i, w := range vocabulary {
		m[w[0]] = append(m[w[0]], i)
	}
	return m
}()

func letters(w string) [26]int8 {
	var h [26]int8
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'a' && c <= 'z' {
			h[c-'a']++
		}
	}
	return h
}

// bagDistance is a cheap lower bound of the edit distance: letters that one
// word has and the other lacks.
func bagDistance(a, b *[26]int8) int {
	more, less := 0, 0
	for i := range a {
		switch d := int(a[i]) - int(b[i]); {
		case d > 0:
			more += d
		case d < 0:
			less -= d
		}
	}
	return max(more, less)
}

// maxWordLen bounds the words spelling correction looks at.
const maxWordLen = 24

// correct maps w to a vocabulary word within a small edit distance
// (Damerau-Levenshtein: one edit for words of 4-6 letters, two for longer
// ones), or returns w unchanged.
func correct(w string) string {
	if len(w) < 4 || len(w) > maxWordLen || vocabularySet[w] || stopwords[w] {
		return w
	}
	limit := 1
	if len(w) >= 7 {
		limit = 2
	}
	hw := letters(w)
	for _, i := range vocabularyByLetter[w[0]] {
		v := vocabulary[i]
		if abs(len(v)-len(w)) <= limit && bagDistance(&hw, &vocabularyLetters[i]) <= limit && edlib.OSADamerauLevenshteinDistance(w, v) <= limit {
			return v
		}
	}
	return w
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// squeeze shortens runs of three or more of the same letter ("humaaan",
// "pleeease") to one.
func squeeze(w string) string {
	run := false
	for i := 2; i < len(w) && !run; i++ {
		run = w[i] == w[i-1] && w[i] == w[i-2]
	}
	if !run {
		return w
	}
	var out []byte
	for i := 0; i < len(w); i++ {
		j := i
		for j+1 < len(w) && w[j+1] == w[i] {
			j++
		}
		if j-i >= 2 {
			out = append(out, w[i])
		} else {
			out = append(out, w[i:j+1]...)
		}
		i = j
	}
	return string(out)
}
