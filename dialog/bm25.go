package dialog

import (
	"math"
	"sort"
)

// Okapi BM25 parameters, the values the literature and Lucene settled on.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// Fields of a document, indexed separately so that a word in the way
// customers ask counts for more than the same word in a long answer.
const (
	fieldAsk    = iota // one way of asking: the question or one alternate
	fieldAllAsk        // the question and all alternates together
	fieldTags          // the entry's tags
	fieldAnswer        // the entry's answer
	numFields
)

// bm25Index is a BM25F index (Robertson and Zaragoza, "The Probabilistic
// Relevance Framework: BM25 and Beyond", 2009), that is Okapi BM25 over
// weighted fields: each field's term frequency is length normalised with b
// against that field's average length, the fields are weighted and summed
// into one pseudo frequency tf', and tf' goes through Okapi's saturation
// with k1 once. A term's weight in a document thus does not depend on the
// query and is computed when the index is built; scoring a query is a map
// lookup and a postings walk per term.
type bm25Index struct {
	docs     int
	entries  int
	entryOf  []int // the entry each document stands for
	postings map[string][]posting
	idf      map[string]float64
	// missingIDF is the IDF of a term no entry contains; it prices the words
	// of a query that the index cannot match.
	missingIDF float64
}

type posting struct {
	doc    int
	weight float64 // idf · tf'·(k1+1) / (k1+tf')
	asked  bool    // the term is in the document's question or tags, not only its answer
}

// bm25Doc is one indexed document: the terms of each field, and the entry it
// stands for.
type bm25Doc struct {
	entry  int
	fields [numFields][]string
}

// newBM25Index indexes docs, weighting fields by weights. Several documents
// may stand for one entry, one per way of asking. Document frequencies count
// entries, not documents, so that an entry's many phrasings do not make its
// own words look common.
func newBM25Index(docs []bm25Doc, entries int, weights [numFields]float64) *bm25Index {
	var avgLen [numFields]float64
	for _, d := range docs {
		for f := range numFields {
			avgLen[f] += float64(len(d.fields[f]))
		}
	}
	for f := range numFields {
		if len(docs) > 0 {
			avgLen[f] /= float64(len(docs))
		}
		if avgLen[f] == 0 {
			avgLen[f] = 1 // a field empty everywhere: avoid 0/0
		}
	}

	type stat struct {
		tf    float64 // tf', the weighted normalised frequency
		asked bool
	}
	stats := make(map[string]map[int]*stat) // term → doc → stat
	df := make(map[string]map[int]bool)     // term → entries having it
	for d, doc := range docs {
		for f := range numFields {
			norm := 1 - bm25B + bm25B*float64(len(doc.fields[f]))/avgLen[f]
			for _, t := range doc.fields[f] {
				if stats[t] == nil {
					stats[t] = make(map[int]*stat)
					df[t] = make(map[int]bool)
				}
				st := stats[t][d]
				if st == nil {
					st = &stat{}
					stats[t][d] = st
				}
				st.tf += weights[f] / norm
				st.asked = st.asked || f != fieldAnswer
				df[t][doc.entry] = true
			}
		}
	}

	ix := &bm25Index{
		docs:       len(docs),
		entries:    entries,
		entryOf:    make([]int, len(docs)),
		postings:   make(map[string][]posting, len(stats)),
		idf:        make(map[string]float64, len(stats)),
		missingIDF: idf(entries, 0),
	}
	for d, doc := range docs {
		ix.entryOf[d] = doc.entry
	}
	for t, byDoc := range stats {
		w := idf(entries, len(df[t]))
		ix.idf[t] = w
		ps := make([]posting, 0, len(byDoc))
		for d, st := range byDoc {
			ps = append(ps, posting{doc: d, weight: w * st.tf * (bm25K1 + 1) / (bm25K1 + st.tf), asked: st.asked})
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].doc < ps[j].doc })
		ix.postings[t] = ps
	}
	return ix
}

// idf is Lucene's BM25 IDF, which stays positive for terms in more than half
// of the documents, unlike Robertson and Spärck Jones's original.
func idf(n, df int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// has reports whether any document contains term.
func (ix *bm25Index) has(term string) bool {
	_, ok := ix.idf[term]
	return ok
}

// addScores adds weight times term's BM25F weight in each document to
// scores, which has a slot per document.
func (ix *bm25Index) addScores(term string, weight float64, scores []float64) {
	for _, p := range ix.postings[term] {
		scores[p.doc] += weight * p.weight
	}
}

// lookup returns term's posting in doc, if doc contains term.
func (ix *bm25Index) lookup(term string, doc int) (posting, bool) {
	ps := ix.postings[term]
	i := sort.Search(len(ps), func(i int) bool { return ps[i].doc >= doc })
	if i < len(ps) && ps[i].doc == doc {
		return ps[i], true
	}
	return posting{}, false
}
