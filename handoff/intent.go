package handoff

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Intents the model tells apart in a customer's message.
const (
	intentHumanRequest = "human_request" // asks to be connected to a person now
	intentNotHelpful   = "not_helpful"   // says the AI's answer missed the point
	intentOther        = "other"
)

// intentModelJSON is trained from testdata/handoff/train/intents.jsonl by
// `go test ./handoff -run TestIntentModelIsCurrent -update` (see
// intent_train_test.go), which also fails when the two drift apart.
//
//go:embed intent_model.json
var intentModelJSON []byte

// intentFile is the stored form of the intent model and of the labelled
// messages that restricted-topic classifiers learn against.
type intentFile struct {
	Model *model `json:"model"`
	// Background is every training message that is about no restricted
	// topic: the negatives a topic classifier is trained against.
	Background []string `json:"background"`
	// TopicExamples are training messages labelled with a shipped
	// restricted topic; they add to the config's examples for that topic.
	TopicExamples map[string][]string `json:"topic_examples"`
}

type intentClassifier struct {
	m          *model
	background [][]feature
	topicExtra map[string][]string
}

func loadIntentModel(st *stemmer) (*intentClassifier, error) {
	var f intentFile
	if err := json.Unmarshal(intentModelJSON, &f); err != nil {
		return nil, fmt.Errorf("handoff: intent model: %w", err)
	}
	if f.Model == nil || len(f.Model.Classes) == 0 {
		return nil, fmt.Errorf("handoff: intent model is empty")
	}
	c := &intentClassifier{m: f.Model, topicExtra: f.TopicExamples}
	for _, text := range f.Background {
		c.background = append(c.background, features(st.fill(tokenize(text))))
	}
	return c, nil
}

// classify returns the probability of each intent for a tokenised message.
// A message of several sentences also has each sentence classified, and an
// intent takes its highest probability: "Agent please. My table arrived
// broken and ..." is a request even though most of it is not.
func (c *intentClassifier) classify(toks []token) map[string]float64 {
	out := make(map[string]float64, len(c.m.Classes))
	probs := make([]float64, len(c.m.Classes))
	parts := sentences(toks)
	if len(parts) > 1 {
		parts = append(parts, toks)
	}
	for _, part := range parts {
		c.m.scores(features(part), probs)
		softmax(probs)
		for i, p := range probs {
			out[c.m.Classes[i]] = max(out[c.m.Classes[i]], p)
		}
	}
	return out
}

// requestThreshold is the probability above which a message counts as a
// request for a human. Above one half: a customer whose request was missed
// can say it again, but a false handoff takes the conversation from the AI.
const requestThreshold = 0.7
