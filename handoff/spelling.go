package handoff

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
		if abs(len(v)-len(w)) <= limit && bagDistance(&hw, &vocabularyLetters[i]) <= limit && editDistance(w, v, limit) <= limit {
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

// editDistance is the optimal-string-alignment distance between a and b,
// giving up early once every path exceeds limit.
// Words are at most maxWordLen bytes, so its rows live on the stack.
func editDistance(a, b string, limit int) int {
	var r0, r1, r2 [maxWordLen + 1]int
	prev2, prev, cur := r0[:len(b)+1], r1[:len(b)+1], r2[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
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
