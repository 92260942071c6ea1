package handoff

import (
	"fmt"
	"strings"
)

// analysis is what the policy learns from a conversation before applying
// the level's rules. Only the messages a decision needs are classified.
type analysis struct {
	msgs []Message

	sentiment   float64
	requested   bool // a request for a human stands (now, or earlier under ai_first)
	requestProb float64

	topic     *topicClassifier
	topicProb float64

	frustrated  bool
	frustration string // what showed it
	sustained   bool

	failedTurns int
	lastFailed  bool
	aiAttempts  int

	problemStatement bool
	problemWords     int
}

// customerTurn is one customer message, tokenised once.
type customerTurn struct {
	index   int
	text    string
	toks    []token
	content map[string]bool // stemmed content words, for spotting repeats
	intent  map[string]float64
}

func (p *Policy) analyse(msgs []Message, rules Rules) *analysis {
	a := &analysis{msgs: msgs}
	var turns []customerTurn
	seenCustomer := false
	for i, m := range msgs {
		switch m.Role {
		case RoleCustomer:
			seenCustomer = true
			toks := p.stems.fill(tokenize(m.Text))
			intent := p.intents.classify(toks)
			if m.Explicit {
				// A request without words (DTMF 0, a button) is certain.
				intent[intentHumanRequest] = 1
			}
			turns = append(turns, customerTurn{index: i, text: m.Text, toks: toks, content: contentSet(toks), intent: intent})
		case RoleAI:
			if seenCustomer {
				a.aiAttempts++
			}
		}
	}
	if len(turns) == 0 {
		return a
	}
	last := turns[len(turns)-1]
	a.sentiment = p.sentiment.score(last.text)
	a.requestProb = last.intent[intentHumanRequest]
	a.requested = a.requestProb >= requestThreshold
	a.topic, a.topicProb = p.topicOf(last.toks)
	a.frustrated, a.frustration = p.frustrated(turns, len(turns)-1, a.sentiment)
	if a.frustrated {
		// The lexicon misreads some anger ("ridiculous!!! worst service
		// ever" scores positive); the sentiment reported with a handoff
		// should not contradict the frustration that caused it.
		a.sentiment = min(a.sentiment, -0.5)
	}
	a.sustained = a.frustrated && p.sustainedFrustration(msgs, turns)
	a.failedTurns, a.lastFailed = p.countFailedTurns(msgs, turns)
	a.problemWords = problemWords(turns)
	a.problemStatement = a.problemWords >= p.cfg.ProblemStatement.MinWords
	if !a.requested {
		// Under ai_first an earlier request waits for the problem
		// statement; it still stands when the customer supplies it.
		for _, t := range turns[:len(turns)-1] {
			if t.intent[intentHumanRequest] >= requestThreshold {
				a.requested, a.requestProb = true, t.intent[intentHumanRequest]
			}
		}
		a.requested = a.requested && rules.ProblemStatementRequired
	}
	return a
}

func (p *Policy) topicOf(toks []token) (*topicClassifier, float64) {
	var best *topicClassifier
	bestP := topicThreshold
	for _, t := range p.topics {
		if pr := t.prob(toks); pr >= bestP {
			best, bestP = t, pr
		}
	}
	if best == nil {
		return nil, 0
	}
	return best, bestP
}

// frustrated says whether customer turn i shows frustration, and how.
func (p *Policy) frustrated(turns []customerTurn, i int, sentiment float64) (bool, string) {
	f, t := p.cfg.Frustration, turns[i]
	s := signals{sentiment: sentiment, shouting: f.Shouting && shouting(t.text), profanity: f.Profanity && profanity(t.text, t.toks)}
	if pr := p.frustration.prob(t.toks, t.text, s); pr >= frustrationSure || pr >= frustrationThreshold && s.negativeEvidence(t.text) {
		return true, fmt.Sprintf("frustrated tone (p=%.2f)", pr)
	}
	if sentiment <= f.Threshold {
		return true, fmt.Sprintf("very negative sentiment (%.2f)", sentiment)
	}
	if f.Repetition && repeats(turns, i) {
		return true, "repeating themselves"
	}
	return false, ""
}

// sustainedFrustration: the last SustainedTurns customer turns were all
// frustrated, and the AI answered in between each of them: it had its chance
// to resolve the frustration and did not. Two angry messages in a row with
// no reply between are still one outburst.
func (p *Policy) sustainedFrustration(msgs []Message, turns []customerTurn) bool {
	n := p.cfg.Frustration.SustainedTurns
	if len(turns) < n {
		return false
	}
	for i := len(turns) - n; i < len(turns)-1; i++ {
		if !aiBetween(msgs, turns[i].index, turns[i+1].index) {
			return false
		}
		if ok, _ := p.frustrated(turns, i, p.sentiment.score(turns[i].text)); !ok {
			return false
		}
	}
	return true
}

func aiBetween(msgs []Message, from, to int) bool {
	for _, m := range msgs[from+1 : to] {
		if m.Role == RoleAI {
			return true
		}
	}
	return false
}

// countFailedTurns counts customer turns that say the AI's previous answer
// did not help, or repeat the question. A turn after an AI reply already
// marked unresolved does not count: the AI said so itself, and that is the
// AI-decision trigger's to judge.
func (p *Policy) countFailedTurns(msgs []Message, turns []customerTurn) (int, bool) {
	n, last := 0, false
	for i, t := range turns {
		prev := t.index - 1
		for prev >= 0 && msgs[prev].Role != RoleAI && msgs[prev].Role != RoleCustomer {
			prev--
		}
		answered := prev >= 0 && msgs[prev].Role == RoleAI && !msgs[prev].Unresolved && !msgs[prev].Transfer
		failed := answered && (t.intent[intentNotHelpful] >= 0.5 || repeats(turns, i))
		last = failed
		if failed {
			n++
		}
	}
	return n, last
}

// problemWords is how much the customer has said about the problem in their
// most detailed message: content words, leaving out the words of asking for
// a person. A problem statement is one message that says what happened to
// what; scattered fragments across turns do not add up to one.
func problemWords(turns []customerTurn) int {
	best := 0
	for _, t := range turns {
		n := 0
		for _, tok := range t.toks {
			if _, isConcept := concepts[tok.Word]; isConcept || stopwords[tok.Word] || len(tok.Word) < 2 || requestWords[tok.Word] {
				continue
			}
			n++
		}
		best = max(best, n)
	}
	return best
}

// requestWords are the words of asking for a person that say nothing about
// the problem itself.
var requestWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("real live actual proper put through speak talk transfer connect operator " +
		"someone somebody anyone human person agent representative rep please pls asap right now immediately " +
		"help can could you me i'd i'm give let want need would like urgent urgently") {
		m[w] = true
	}
	return m
}()

// repeats says whether customer turn i asks again what an earlier turn
// asked: the answer in between did not help.
func repeats(turns []customerTurn, i int) bool {
	for j := range i {
		if similar(turns[i].content, turns[j].content) {
			return true
		}
	}
	return false
}
