package dialog

import (
	"math"
	"testing"
)

// askOnly indexes one-field documents, so that scores can be checked
// against Okapi BM25 by hand.
func askOnly(docs ...[]string) *bm25Index {
	ds := make([]bm25Doc, len(docs))
	for i, d := range docs {
		ds[i].entry = i
		ds[i].fields[fieldAsk] = d
	}
	return newBM25Index(ds, len(docs), [numFields]float64{fieldAsk: 1})
}

func scoresOf(ix *bm25Index, terms ...string) []float64 {
	s := make([]float64, ix.docs)
	for _, t := range terms {
		ix.addScores(t, 1, s)
	}
	return s
}

func TestBM25MatchesOkapiFormula(t *testing.T) {
	ix := askOnly(
		[]string{"return", "item", "return"},
		[]string{"refund", "item"},
		[]string{"ship", "express", "cost", "item"},
	)
	// Document 0: tf=2, |d|=3, avgdl=3, N=3, df(return)=1.
	idfReturn := math.Log(1 + (3-1+0.5)/(1+0.5))
	tf, norm := 2.0, 1-bm25B+bm25B*3/3
	want := idfReturn * tf * (bm25K1 + 1) / (tf + bm25K1*norm)
	if got := scoresOf(ix, "return")[0]; math.Abs(got-want) > 1e-12 {
		t.Errorf("score = %v, want %v", got, want)
	}
}

func TestBM25Ranking(t *testing.T) {
	ix := askOnly(
		[]string{"refund", "item"},
		[]string{"refund", "item", "warehouse", "carrier", "label", "box"},
		[]string{"item", "ship"},
	)
	s := scoresOf(ix, "refund")
	if !(s[0] > s[1]) {
		t.Errorf("shorter document should win on the same term: %v", s)
	}
	if s[2] != 0 {
		t.Errorf("document without the term scored %v", s[2])
	}
	if ix.idf["item"] >= ix.idf["ship"] {
		t.Errorf("a term in every document must weigh less than a rare one: %v vs %v", ix.idf["item"], ix.idf["ship"])
	}
	if ix.idf["item"] <= 0 {
		t.Errorf("idf must stay positive, got %v", ix.idf["item"])
	}
}

func TestBM25FieldWeightsAndEntryLevelIDF(t *testing.T) {
	docs := []bm25Doc{
		{entry: 0, fields: [numFields][]string{fieldAsk: {"refund"}}},
		{entry: 0, fields: [numFields][]string{fieldAsk: {"money", "back"}}},
		{entry: 1, fields: [numFields][]string{fieldAsk: {"ship"}, fieldAnswer: {"refund"}}},
	}
	ix := newBM25Index(docs, 2, defaultTuning().fieldWeights)
	s := scoresOf(ix, "refund")
	if !(s[0] > s[2]) {
		t.Errorf("a question word must outweigh an answer word: %v", s)
	}
	if p, _ := ix.lookup("refund", 2); p.asked {
		t.Error("answer-only term marked as asked")
	}
	if want := idf(2, 2); ix.idf["refund"] != want {
		t.Errorf("idf counts entries: got %v, want %v", ix.idf["refund"], want)
	}
}
