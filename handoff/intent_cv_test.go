package handoff

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestIntentCrossValidation trains on four fifths of the labelled messages
// and tests on the fifth the model never saw, five times over: it measures
// how the classifier does on phrasings it was not trained on.
func TestIntentCrossValidation(t *testing.T) {
	if testing.Short() {
		t.Skip("trains five models")
	}
	data := readLabelled(t, filepath.Join("..", "testdata", "handoff", "train", "intents.jsonl"))
	const folds = 5
	var tp, fp, fn, correct, total int
	var misses []string
	for k := range folds {
		var trainSet []example
		for i, l := range data {
			if i%folds != k {
				trainSet = append(trainSet, example{Features: features(testStems.fill(tokenize(l.Text))), Class: slices.Index(intentClasses, l.Label)})
			}
		}
		m := train(intentClasses, trainSet, intentTraining)
		for i, l := range data {
			if i%folds != k {
				continue
			}
			probs := m.predict(features(testStems.fill(tokenize(l.Text))))
			got := intentClasses[argmax(probs)]
			total++
			if got == l.Label {
				correct++
			} else {
				misses = append(misses, l.Label+" -> "+got+": "+l.Text)
			}
			isReq, wantReq := got == intentHumanRequest, l.Label == intentHumanRequest
			switch {
			case isReq && wantReq:
				tp++
			case isReq:
				fp++
			case wantReq:
				fn++
			}
		}
	}
	precision, recall := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
	t.Logf("accuracy %.3f, human_request precision %.3f recall %.3f", float64(correct)/float64(total), precision, recall)
	for i, m := range misses {
		if i < 40 && testing.Verbose() {
			t.Log(m)
		}
	}
	// Measured 0.963 and 0.931 (see docs/benchmarks.md); this guards
	// against a change to the features or the data that makes it worse.
	if recall < 0.92 || precision < 0.94 {
		t.Errorf("human_request precision %.3f recall %.3f on held-out folds, want >= 0.94 and >= 0.92", precision, recall)
	}
}

func argmax(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
