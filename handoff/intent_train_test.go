package handoff

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated files and golden files under testdata/")

type labelled struct {
	Text  string `json:"text"`
	Label string `json:"label"`
	Topic string `json:"topic,omitempty"`
}

func readLabelled(t testing.TB, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, l)
	}
	return out
}

// testStems stems training text the way a Policy stems live text.
var testStems = &stemmer{}

var mayBeRestricted = regexp.MustCompile(`(?i)charg|disput|recogni[sz]e|unauthori[sz]ed|wrong amount|reverse|billed|\bbill\b|` +
	`(close|delete|deactivate|terminate|remove|cancel)\b.{0,20}(account|membership|subscription|pine club)|unsubscribe|` +
	`lawyer|attorney|legal|court|small claims|gdpr|\bsue\b|suing|solicitor|regulator|trading standards|ombudsman|consumer|injur|liab|police`)

var intentClasses = []string{intentHumanRequest, intentNotHelpful, intentOther}

var intentTraining = trainOptions{Epochs: 30, Rate: 0.5, L2: 1e-4, Seed: 7, Balance: 1}

// buildIntentFile trains the intent model; it is how intent_model.json is
// made, so the build-time training is itself under test.
func buildIntentFile(t testing.TB, data []labelled) []byte {
	var examples []example
	f := intentFile{TopicExamples: map[string][]string{}}
	for _, l := range data {
		c := slices.Index(intentClasses, l.Label)
		if c < 0 {
			t.Fatalf("unknown label %q for %q", l.Label, l.Text)
		}
		examples = append(examples, example{Features: features(testStems.fill(tokenize(l.Text))), Class: c})
		if l.Topic != "" {
			f.TopicExamples[l.Topic] = append(f.TopicExamples[l.Topic], l.Text)
		} else {
			f.Background = append(f.Background, l.Text)
		}
	}
	f.Model = train(intentClasses, examples, intentTraining)
	addTopicLines(t, &f)
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// topicLines adds topics.jsonl to the stored file: its topic-labelled
// messages are extra positives for the shipped restricted topics, its
// "none" messages (look-alikes such as "cancel my order") extra background.
//
// The frustration set joins the background too, so that anger alone ("I am
// furious, terrible company") does not look like a restricted topic; its few
// messages that touch one (charges, cancellations, lawyers) are left out by
// a deliberately broad pattern rather than labelled one by one.
func addTopicLines(t testing.TB, f *intentFile) {
	for _, l := range readLabelled(t, filepath.Join("..", "testdata", "handoff", "train", "frustration.jsonl")) {
		if !mayBeRestricted.MatchString(l.Text) {
			f.Background = append(f.Background, l.Text)
		}
	}
	for _, l := range readLabelled(t, filepath.Join("..", "testdata", "handoff", "train", "topics.jsonl")) {
		if l.Topic == "none" {
			f.Background = append(f.Background, l.Text)
		} else {
			f.TopicExamples[l.Topic] = append(f.TopicExamples[l.Topic], l.Text)
		}
	}
}

func TestIntentModelIsCurrent(t *testing.T) {
	data := readLabelled(t, filepath.Join("..", "testdata", "handoff", "train", "intents.jsonl"))
	got := buildIntentFile(t, data)
	if *update {
		if err := os.WriteFile("intent_model.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, intentModelJSON) {
		t.Fatal("intent_model.json is stale: run go test ./handoff -run TestIntentModelIsCurrent -update")
	}
}

var frustrationTraining = trainOptions{Epochs: 30, Rate: 0.5, L2: 1e-3, Seed: 13, Balance: 1}

// frustrationExamples turns labelled messages into training examples, with
// the same signals the policy computes live.
func frustrationExamples(data []labelled) []example {
	sa := newSentimentAnalyzer()
	var out []example
	for _, l := range data {
		toks := testStems.fill(tokenize(l.Text))
		s := signals{sentiment: sa.score(l.Text), shouting: shouting(l.Text), profanity: profanity(l.Text, toks)}
		class := 0
		if l.Label == "frustrated" {
			class = 1
		}
		out = append(out, example{Features: frustrationFeatures(toks, l.Text, s), Class: class})
	}
	return out
}

// frustrationData is the labelled frustration set plus, as calm examples,
// the intent set's messages that carry no sign of frustration at all (no
// negative sentiment, no exclamation mark, no capitals, no swearing): the
// frustration set alone has too few plain requests and questions, and a
// model trained on it mistakes "agent" or "0031" for anger.
func frustrationData(t testing.TB) []labelled {
	data := readLabelled(t, filepath.Join("..", "testdata", "handoff", "train", "frustration.jsonl"))
	sa := newSentimentAnalyzer()
	for _, l := range readLabelled(t, filepath.Join("..", "testdata", "handoff", "train", "intents.jsonl")) {
		toks := tokenize(l.Text)
		if sa.score(l.Text) >= -0.05 && !strings.Contains(l.Text, "!") && !shouting(l.Text) && !profanity(l.Text, toks) && l.Text != strings.ToUpper(l.Text) {
			data = append(data, labelled{Text: l.Text, Label: "calm"})
		}
	}
	return data
}

func TestFrustrationModelIsCurrent(t *testing.T) {
	data := frustrationData(t)
	m := train([]string{"calm", "frustrated"}, frustrationExamples(data), frustrationTraining)
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("frustration_model.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, frustrationModelJSON) {
		t.Fatal("frustration_model.json is stale: run go test ./handoff -run TestFrustrationModelIsCurrent -update")
	}
}
