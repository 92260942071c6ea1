package handoff

import (
	"sync"
	"sync/atomic"

	"github.com/kljensen/snowball/english"
)

// stemmer reduces words to their Snowball (Porter2) stems, so "charged",
// "charges" and "charging" are one feature. Stemming costs about a
// microsecond a word, which adds up on every turn of a long conversation;
// the cache makes it a map lookup for the words customers actually use.
type stemmer struct {
	cache sync.Map // word -> stem
	size  atomic.Int64
}

// maxStemCache bounds the cache so that adversarial input cannot grow it
// without end; past it, words are stemmed uncached.
const maxStemCache = 50_000

func (s *stemmer) stem(w string) string {
	if v, ok := s.cache.Load(w); ok {
		return v.(string)
	}
	st := w
	if len(w) > 3 && len(w) <= maxWordLen && w != "?" && w != "!" {
		st = english.Stem(w, false)
	}
	if s.size.Load() < maxStemCache {
		if _, loaded := s.cache.LoadOrStore(w, st); !loaded {
			s.size.Add(1)
		}
	}
	return st
}

// fill sets the Stem of every token.
func (s *stemmer) fill(toks []token) []token {
	for i := range toks {
		toks[i].Stem = s.stem(toks[i].Word)
	}
	return toks
}
