package engine

import (
	"context"
	"strings"
	"time"
)

// The VAD ends an utterance after a short silence so that the AI answers
// quickly, and callers pause in the middle of sentences for longer than
// that ("I want to close ... my account"). Rather than wait longer after
// every utterance, the worker holds the words back while the caller is
// evidently not done, and joins them to what comes next:
//   - the caller started talking again before the words were recognised;
//   - the words stop where an English sentence cannot ("... and", "my",
//     "um") and the caller starts again within continueWithin of the end.
//
// A caller who starts again after the turn has begun cuts the reply short
// instead (barge-in cancels the model's stream and the speech).
const continueWithin = 800 * time.Millisecond

// joinWithin: a reply is not spoken before this long after the end of the
// utterance it answers. The VAD ends utterances at pauses inside some
// sentences, and the caller is heard going on within 300 ms of that end
// (media's TestVADEndPointingAtTheShippedEndOfSpeech); a caller who goes
// on before a word of the reply was said cuts it (barge-in) and their
// words are joined with the next. A model and speech provider take longer
// than this anyway; only a fast embedded turn waits.
const joinWithin = 300 * time.Millisecond

// speechStarts records that the caller started an utterance, for a worker
// deciding whether the one before is finished. The run loop calls it.
func (cl *call) speechStarts() {
	cl.starts.Add(1)
	select {
	case cl.resumed <- struct{}{}:
	default:
	}
}

// goesOn reports whether the caller carried on talking after utterance j
// (whose words are text) ended; see continueWithin.
func (cl *call) goesOn(ctx context.Context, j job, text string) bool {
	if cl.starts.Load() != j.seq {
		return true
	}
	if !unfinished(text) {
		return false
	}
	t := time.NewTimer(time.Until(j.ended.Add(continueWithin)))
	defer t.Stop()
	for {
		select {
		case <-cl.resumed: // possibly a stale wake-up: the count says
			if cl.starts.Load() != j.seq {
				return true
			}
		case <-t.C:
			return cl.starts.Load() != j.seq
		case <-ctx.Done():
			return false
		}
	}
}

// dangling are words an English sentence does not end on: articles,
// possessives, conjunctions, most prepositions and hesitations.
var dangling = map[string]bool{
	"a": true, "an": true, "the": true, "my": true, "our": true, "your": true, "his": true, "her": true, "their": true,
	"and": true, "or": true, "but": true, "because": true, "so": true, "if": true, "than": true, "that": true, "which": true,
	"to": true, "of": true, "for": true, "with": true, "from": true, "at": true, "by": true, "into": true, "about": true,
	"um": true, "uh": true, "er": true, "erm": true, "uhm": true, "hmm": true, "i": true,
}

// unfinished reports whether text ends on a dangling word. A recogniser
// that punctuates may mark a trailing-off ("my...", "and,") but a full
// stop, question or exclamation mark ends the sentence.
func unfinished(text string) bool {
	words := strings.Fields(strings.ToLower(text))
	if len(words) == 0 {
		return false
	}
	last := strings.TrimRight(strings.TrimSuffix(words[len(words)-1], "..."), ",;:-–—…")
	if strings.ContainsAny(last, ".?!") {
		return false
	}
	return dangling[last]
}

// joinWords joins held-back words and the next utterance's.
func joinWords(held, next string) string {
	switch {
	case held == "":
		return next
	case next == "":
		return held
	}
	return held + " " + next
}
