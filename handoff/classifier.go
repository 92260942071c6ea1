package handoff

import (
	"math"
	"math/rand/v2"
	"slices"
)

// feature is one named input of a classifier with its value.
type feature struct {
	ID    uint64
	Value float64
}

// model is a multinomial logistic regression: one weight per feature and
// class. It is small, fast (a map lookup per feature) and, unlike keyword
// lists, learns from labelled examples which words matter in which context.
type model struct {
	Classes []string             `json:"classes"`
	Bias    []float64            `json:"bias"`
	Weights map[uint64][]float64 `json:"weights"`
}

// example is one labelled training input.
type example struct {
	Features []feature
	Class    int
}

type trainOptions struct {
	Epochs int
	Rate   float64
	L2     float64
	Seed   uint64
	// Balance is the exponent of the inverse-frequency class weights: 1
	// weighs classes equally, 0 not at all. Between the two, a rare class
	// is heard without its probabilities being inflated.
	Balance float64
}

// train fits the model by stochastic gradient descent with L2
// regularisation. Classes are weighted by inverse frequency so a small class
// (a topic's handful of examples) is not drowned by a large background.
// The shuffle is seeded: the same data always gives the same model.
func train(classes []string, data []example, o trainOptions) *model {
	k := len(classes)
	ids, rows := denseFeatures(data)
	w := make([]float64, len(ids)*k) // feature-major: w[f*k+c]
	bias := make([]float64, k)
	classWeight := classWeights(k, data, o.Balance)
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	probs := make([]float64, k)
	for epoch := range o.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		rate := o.Rate / (1 + float64(epoch)*0.1)
		for _, i := range order {
			row, class := rows[i], data[i].Class
			copy(probs, bias)
			for _, f := range row {
				for c := range k {
					probs[c] += w[int(f.idx)*k+c] * f.value
				}
			}
			softmax(probs)
			for c := range k {
				g := (probs[c] - indicator(c == class)) * classWeight[class]
				bias[c] -= rate * g
				for _, f := range row {
					j := int(f.idx)*k + c
					w[j] -= rate * (g*f.value + o.L2*w[j])
				}
			}
		}
	}
	m := &model{Classes: classes, Bias: bias, Weights: make(map[uint64][]float64, len(ids))}
	for f, id := range ids {
		m.Weights[id] = w[f*k : (f+1)*k]
	}
	m.prune(1e-3)
	return m
}

// denseEntry is a feature of a training example by its index in the dense
// weight matrix: training does no map lookups in its inner loop.
type denseEntry struct {
	idx   int32
	value float64
}

// denseFeatures numbers the features of data in order of first appearance.
func denseFeatures(data []example) ([]uint64, [][]denseEntry) {
	index := map[uint64]int32{}
	var ids []uint64
	rows := make([][]denseEntry, len(data))
	for i, e := range data {
		row := make([]denseEntry, len(e.Features))
		for j, f := range e.Features {
			idx, ok := index[f.ID]
			if !ok {
				idx = int32(len(ids))
				index[f.ID] = idx
				ids = append(ids, f.ID)
			}
			row[j] = denseEntry{idx, f.Value}
		}
		rows[i] = row
	}
	return ids, rows
}

// classWeights are inverse class frequencies raised to balance.
func classWeights(k int, data []example, balance float64) []float64 {
	counts := make([]float64, k)
	for _, e := range data {
		counts[e.Class]++
	}
	out := make([]float64, k)
	for c, n := range counts {
		if n > 0 {
			out[c] = math.Pow(float64(len(data))/(float64(k)*n), balance)
		}
	}
	return out
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// prune drops features whose weights are all negligible and rounds the rest,
// which keeps the stored model small and its JSON stable.
func (m *model) prune(eps float64) {
	for name, w := range m.Weights {
		keep := false
		for c := range w {
			w[c] = math.Round(w[c]*1e5) / 1e5
			keep = keep || math.Abs(w[c]) >= eps
		}
		if !keep {
			delete(m.Weights, name)
		}
	}
	for c := range m.Bias {
		m.Bias[c] = math.Round(m.Bias[c]*1e5) / 1e5
	}
}

func (m *model) scores(fs []feature, out []float64) {
	copy(out, m.Bias)
	for _, f := range fs {
		if w, ok := m.Weights[f.ID]; ok {
			for c := range out {
				out[c] += w[c] * f.Value
			}
		}
	}
}

// predict returns the probability of each class.
func (m *model) predict(fs []feature) []float64 {
	out := make([]float64, len(m.Classes))
	m.scores(fs, out)
	softmax(out)
	return out
}

// prob returns the probability of the named class.
func (m *model) prob(fs []feature, class string) float64 {
	i := slices.Index(m.Classes, class)
	if i < 0 {
		return 0
	}
	return m.predict(fs)[i]
}

func softmax(x []float64) {
	maxV := math.Inf(-1)
	for _, v := range x {
		maxV = max(maxV, v)
	}
	sum := 0.0
	for i, v := range x {
		x[i] = math.Exp(v - maxV)
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

// concepts group words that play the same part in a request, so the model
// generalises from "talk to an agent" to "speak with a representative".
var concepts = map[string]string{
	"human": "HUMAN", "person": "HUMAN", "agent": "HUMAN", "representative": "HUMAN", "rep": "HUMAN",
	"operator": "HUMAN", "someone": "HUMAN", "somebody": "HUMAN", "staff": "HUMAN", "associate": "HUMAN",
	"supervisor": "HUMAN", "manager": "HUMAN", "people": "HUMAN", "humans": "HUMAN", "agents": "HUMAN",
	"persons": "HUMAN", "representatives": "HUMAN", "employee": "HUMAN", "advisor": "HUMAN", "adviser": "HUMAN",
	"talk": "TALK", "speak": "TALK", "chat": "TALK", "connect": "TALK", "transfer": "TALK", "call": "TALK",
	"reach": "TALK", "contact": "TALK", "deal": "TALK", "escalate": "TALK",
	"customer": "TEAM", "service": "TEAM", "care": "TEAM", "support": "TEAM", "team": "TEAM", "department": "TEAM",
	"owner": "TEAM", "ring": "TALK", "phone": "TALK", "callback": "TALK",
	"bot": "BOT", "robot": "BOT", "ai": "BOT", "machine": "BOT", "computer": "BOT", "automated": "BOT", "chatbot": "BOT",
	"want": "WANT", "need": "WANT", "like": "WANT", "prefer": "WANT", "rather": "WANT", "wish": "WANT",
}

// Feature kinds, hashed into a feature's ID.
const (
	kWord byte = iota + 1
	kConcept
	kBigram
	kSkip
	kFirst
	kLast
	kLength
	kShape
)

// fid hashes a feature kind, a negation flag and up to two strings (FNV-1a)
// so that building features allocates no strings: this runs on every turn.
func fid(kind byte, negated bool, a, b string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * prime
	if negated {
		h = (h ^ 0x80) * prime
	}
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * prime
	}
	h = (h ^ 0xff) * prime
	for i := 0; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * prime
	}
	return h
}

// features turns a message into the classifier's inputs: words, word pairs,
// word pairs across a short gap, concepts, and the shape of the message.
// Values are L2-normalised.
func features(toks []token) []feature {
	fs := make([]feature, 0, 5*len(toks)+4)
	add := func(id uint64, v float64) { fs = append(fs, feature{id, v}) }
	seq := make([]string, len(toks))
	for i, t := range toks {
		w := t.Stem
		if w == "" {
			w = t.Word
		}
		seq[i] = w
		if c, ok := concepts[t.Word]; ok {
			add(fid(kConcept, t.Negated, c, ""), 1)
			seq[i] = c
		}
		add(fid(kWord, t.Negated, w, ""), 1)
	}
	for i := range toks {
		for d := 1; d <= 3 && i+d < len(toks); d++ {
			if d == 1 {
				add(fid(kBigram, toks[i+d].Negated, seq[i], seq[i+d]), 1)
			} else {
				add(fid(kSkip, toks[i+d].Negated, seq[i], seq[i+d]), 0.5)
			}
		}
	}
	if len(toks) > 0 {
		add(fid(kFirst, false, seq[0], ""), 1)
		add(fid(kLast, false, seq[len(seq)-1], ""), 0.5)
	}
	add(fid(kLength, false, lengthBucket(len(toks)), ""), 0.5)
	return normalise(fs)
}

func lengthBucket(n int) string {
	switch {
	case n <= 2:
		return "tiny"
	case n <= 6:
		return "short"
	case n <= 15:
		return "medium"
	default:
		return "long"
	}
}

func normalise(fs []feature) []feature {
	sum := 0.0
	for _, f := range fs {
		sum += f.Value * f.Value
	}
	if sum == 0 {
		return fs
	}
	n := math.Sqrt(sum)
	for i := range fs {
		fs[i].Value /= n
	}
	return fs
}
