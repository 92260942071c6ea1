package dialog

import (
	"context"
	"fmt"
	"strings"
)

// DefaultMinConfidence is the share of the customer's message that the best
// entry must cover (by IDF, see Reply.Score) to be given as the answer. It
// was tuned on testdata/queries.jsonl; see TestEmbeddedAccuracy.
const DefaultMinConfidence = 0.45

// EmbeddedOptions tunes the embedded responder. The zero value is ready to use.
type EmbeddedOptions struct {
	// MinConfidence in (0, 1] replaces DefaultMinConfidence; zero, or a
	// value outside that range, keeps the default. Higher means fewer wrong
	// answers and more "I don't know"s.
	MinConfidence float64
}

// Embedded answers from a Knowledge base, without a model or a network: it
// ranks the ways of asking of every entry against the message with BM25F,
// and answers with the best entry if it covers enough of the message. The
// same message always gets the same reply. It is safe for concurrent use.
type Embedded struct {
	kb            *Knowledge
	index         *bm25Index
	speller       *speller
	catalog       map[string]bool // terms of kb.Catalog and timeWords
	tuning        tuning
	minConfidence float64
}

var _ StreamResponder = (*Embedded)(nil)

// NewEmbedded indexes kb, which must come from LoadKnowledge or
// ParseKnowledge and must not change afterwards.
func NewEmbedded(kb *Knowledge, opts EmbeddedOptions) *Embedded {
	tn := defaultTuning()
	var docs []bm25Doc
	var kbWords []string // every word, for the speller
	for i, e := range kb.Entries {
		phrasings := append([]string{e.Question}, e.Alternates...)
		all := tokenize(strings.Join(phrasings, " "))
		tags := tokenize(strings.Join(e.Tags, " "))
		answer := tokenize(e.Answer)
		// One document per way of asking, so that a message phrased like
		// one alternate is not outscored by an entry whose many alternates
		// happen to share its words.
		for _, p := range phrasings {
			var d bm25Doc
			d.entry = i
			d.fields[fieldAsk] = tokenize(p)
			d.fields[fieldAllAsk] = all
			d.fields[fieldTags] = tags
			d.fields[fieldAnswer] = answer
			docs = append(docs, d)
		}
		kbWords = append(kbWords, words(strings.Join(phrasings, " ")+" "+strings.Join(e.Tags, " ")+" "+e.Answer)...)
	}
	catalog := make(map[string]bool)
	for _, c := range append(append([]string(nil), kb.Catalog...), timeWords...) {
		for _, w := range words(c) {
			if t, ok := term(w); ok {
				catalog[t] = true
				kbWords = append(kbWords, w)
			}
		}
	}
	minConf := opts.MinConfidence
	if minConf <= 0 || minConf > 1 {
		minConf = DefaultMinConfidence
	}
	ix := newBM25Index(docs, len(kb.Entries), tn.fieldWeights)
	return &Embedded{
		kb:            kb,
		index:         ix,
		speller:       newSpeller(kbWords, ix, catalog),
		catalog:       catalog,
		tuning:        tn,
		minConfidence: minConf,
	}
}

// Respond answers req.Text with the best matching entry. Greetings and thanks
// get a short reply; a message with nothing to look up is Unresolved with
// GapUnclearInstructions; one that no entry answers well enough is
// Unresolved with GapMissingKnowledge. History is not used: every entry is
// written to answer a question on its own.
func (e *Embedded) Respond(ctx context.Context, req Request) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, fmt.Errorf("embedded responder: %w", err)
	}
	ws := words(req.Text)
	if kind := classifySmallTalk(ws); kind != notSmallTalk {
		return Reply{Text: e.smallTalkText(kind), Score: 1}, nil
	}
	q := e.analyse(ws)
	if len(q.terms) == 0 && q.unknown == q.gibberish {
		return Reply{Text: unclearText, Unresolved: true, Gap: GapUnclearInstructions}, nil
	}
	best, conf, err := e.rank(ctx, q)
	if err != nil {
		return Reply{}, err
	}
	if best < 0 || conf < e.minConfidence {
		return Reply{Text: noAnswerText, Unresolved: true, Gap: GapMissingKnowledge, Score: conf}, nil
	}
	entry := e.kb.Entries[best]
	return Reply{Text: entry.Answer, Source: entry.ID, Score: conf}, nil
}

// RespondStream is Respond with the reply handed over sentence by
// sentence, so that a call speaks it the way it speaks a model's. The
// reply is written at once; between sentences a cancelled ctx (the caller
// talked over it) ends it.
func (e *Embedded) RespondStream(ctx context.Context, req Request, onSentence func(string)) (Reply, error) {
	reply, err := e.Respond(ctx, req)
	if err != nil {
		return Reply{}, err
	}
	var s sentences
	cut := false
	say := func(sentence string) {
		if cut = cut || ctx.Err() != nil; !cut {
			onSentence(sentence)
		}
	}
	s.feed(reply.Text+" ", say)
	s.flush(say)
	if cut {
		return Reply{}, fmt.Errorf("embedded responder: %w", context.Cause(ctx))
	}
	return reply, nil
}

// rank returns the best entry for q and its confidence; -1 when no entry
// shares a word with q. BM25F picks the entry, as its best document; ties go
// to the entry listed first, so replies never vary.
func (e *Embedded) rank(ctx context.Context, q query) (entry int, confidence float64, err error) {
	docScores := make([]float64, e.index.docs)
	for _, t := range q.terms {
		if err := ctx.Err(); err != nil {
			return -1, 0, fmt.Errorf("embedded responder: %w", err)
		}
		w := t.weight
		if t.catalog {
			w *= e.tuning.catalogWeight
		}
		e.index.addScores(t.term, w, docScores)
	}
	bestDoc := -1
	for d, s := range docScores {
		if s > 0 && (bestDoc < 0 || s > docScores[bestDoc]) {
			bestDoc = d
		}
	}
	if bestDoc < 0 {
		return -1, 0, nil
	}
	return e.index.entryOf[bestDoc], e.coverage(q, bestDoc), nil
}

// coverage is the confidence that doc answers q: the share of q's IDF that
// doc contains. BM25 scores are not comparable between messages, so they
// cannot be held to one threshold; this share can, and it drops with every
// word of the message that the knowledge base does not know.
func (e *Embedded) coverage(q query, doc int) float64 {
	covered, mass := 0.0, q.mass
	for _, t := range q.terms {
		p, ok := e.index.lookup(t.term, doc)
		if !ok {
			continue
		}
		credit := e.tuning.answerCredit
		if p.asked {
			credit = 1
		}
		w := t.weight
		if t.catalog {
			w *= e.tuning.catalogCredit
			mass += e.tuning.catalogCredit * t.idf
		}
		covered += w * credit * t.idf
	}
	if mass == 0 {
		return 0
	}
	return min(covered/mass, 1)
}
