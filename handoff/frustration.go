package handoff

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// frustrationModelJSON is trained from testdata/handoff/train/frustration.jsonl
// by `go test ./handoff -run TestFrustrationModelIsCurrent -update`.
//
//go:embed frustration_model.json
var frustrationModelJSON []byte

// frustrationClassifier tells an angry or fed-up message from a calm one,
// including a calm report of a real problem ("my lamp arrived broken") and
// sarcasm ("great, another delay"). It is a logistic regression over the
// message's words plus its VADER sentiment and its shape (capitals,
// exclamation marks, swearing), so a lexicon score alone does not decide.
type frustrationClassifier struct {
	m *model
}

func loadFrustrationModel() (*frustrationClassifier, error) {
	var m model
	if err := json.Unmarshal(frustrationModelJSON, &m); err != nil {
		return nil, fmt.Errorf("handoff: frustration model: %w", err)
	}
	if len(m.Classes) != 2 {
		return nil, fmt.Errorf("handoff: frustration model has %d classes, want 2", len(m.Classes))
	}
	return &frustrationClassifier{m: &m}, nil
}

// signals are the non-lexical inputs of the frustration model.
type signals struct {
	sentiment float64
	shouting  bool
	profanity bool
}

// frustrationFeatures adds the message's signals to its word features.
// Turning profanity or shouting off in the config removes those inputs.
func frustrationFeatures(toks []token, text string, s signals) []feature {
	fs := features(toks)
	add := func(name string, v float64) { fs = append(fs, feature{fid(kShape, false, name, ""), v}) }
	add("sentiment", s.sentiment)
	add("sentiment_neg", math.Max(0, -s.sentiment))
	if s.shouting {
		add("shouting", 1)
	}
	if s.profanity {
		add("profanity", 1)
	}
	if n := strings.Count(text, "!"); n >= 2 {
		add("bangs", math.Min(float64(n), 5)/5)
	}
	if strings.Contains(text, "?!") || strings.Contains(text, "!?") || strings.Contains(text, "??") {
		add("interrobang", 1)
	}
	return fs
}

// prob is the probability that the message is frustrated.
func (c *frustrationClassifier) prob(toks []token, text string, s signals) float64 {
	return c.m.prob(frustrationFeatures(toks, text, s), "frustrated")
}

// frustrationThreshold is the probability above which a message counts as
// frustrated. It sits above one half because handing off on a calm message
// costs more than waiting one turn for a frustrated one to show itself.
const frustrationThreshold = 0.6

// frustrationSure is the probability at which the classifier decides alone,
// without a surface sign: sarcasm ("oh wonderful, another bot") has none.
const frustrationSure = 0.93

// negativeEvidence says whether a message shows anger on its surface at all:
// negative sentiment, capitals, swearing or insistent punctuation. The
// classifier's words alone are not enough: "where is my sofa" shares its
// words with many angry messages and is not one.
func (s signals) negativeEvidence(text string) bool {
	return s.sentiment <= -0.05 || s.shouting || s.profanity || strings.Count(text, "!") >= 2 ||
		strings.Contains(text, "?!") || strings.Contains(text, "!?") || strings.Contains(text, "??")
}
