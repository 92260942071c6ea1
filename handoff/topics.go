package handoff

import "switchboard/config"

// topicClassifier recognises one restricted topic. It is a logistic
// regression trained when the policy is built: the topic's description,
// examples and keywords (each a short positive example) (plus the shipped labelled examples for the shipped
// topics) against a background of ordinary customer messages, look-alikes
// such as "cancel my order" included, and the other topics' examples.
type topicClassifier struct {
	name  string
	level string
	m     *model
}

// topicThreshold is the probability above which a message is on the topic.
const topicThreshold = 0.6

var topicTraining = trainOptions{Epochs: 10, Rate: 0.5, L2: 1e-4, Seed: 11, Balance: topicBalance}

const topicBalance = 0.5

func trainTopic(t config.Topic, all []config.Topic, ic *intentClassifier, st *stemmer) *topicClassifier {
	tc := &topicClassifier{name: t.Name, level: t.Level}
	var data []example
	for _, f := range ic.background {
		data = append(data, example{Features: f, Class: 0})
	}
	for _, o := range all {
		class := 0
		if o.Name == t.Name {
			class = 1
		}
		for _, text := range topicTexts(o, ic.topicExtra[o.Name]) {
			data = append(data, example{Features: tc.features(st.fill(tokenize(text))), Class: class})
		}
	}
	tc.m = train([]string{"other", t.Name}, data, topicTraining)
	return tc
}

func topicTexts(t config.Topic, extra []string) []string {
	texts := append([]string{t.Description}, t.Examples...)
	texts = append(texts, t.Keywords...)
	return append(texts, extra...)
}

func (tc *topicClassifier) features(toks []token) []feature { return features(toks) }

// prob is the probability that the message is about the topic: the
// highest of the whole message and each of its sentences.
func (tc *topicClassifier) prob(toks []token) float64 {
	parts := sentences(toks)
	if len(parts) > 1 {
		parts = append(parts, toks)
	}
	best := 0.0
	for _, part := range parts {
		best = max(best, tc.m.prob(tc.features(part), tc.name))
	}
	return best
}
