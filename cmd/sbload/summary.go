package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Summary is what a run measured; -json prints it as is.
type Summary struct {
	URL           string  `json:"url"`
	Conversations int     `json:"conversations"` // asked for
	Opened        int64   `json:"opened"`        // created and streaming
	Held          int64   `json:"held"`          // streams open until the run closed them
	OpenS         float64 `json:"open_s"`        // how long opening them all took
	DurationS     float64 `json:"duration_s"`    // the message phase
	IntervalS     float64 `json:"interval_s"`    // mean time between one conversation's messages

	Sent      int64     `json:"sent"`
	Answered  int64     `json:"answered"` // AI replies received
	PerSecond float64   `json:"messages_per_second"`
	RoundTrip RoundTrip `json:"round_trip"`

	Idle IdleMemory `json:"idle_memory"`
	// GatewayCores and LoadCores are the CPU the gateway and this program
	// used during the message phase, in cores (1 = one core busy).
	GatewayCores float64 `json:"gateway_cores"`
	LoadCores    float64 `json:"load_cores"`

	Errors     map[string]int64 `json:"errors"`
	ErrorCount int64            `json:"error_count"`
	Targets    Targets          `json:"targets"`
}

// RoundTrip is the distribution of the time from a customer frame sent to
// the AI's reply event received, in milliseconds.
type RoundTrip struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

// IdleMemory is the gateway's memory growth per open, idle conversation:
// its HTTP connection, WebSocket, bus subscription and goroutines. Neither
// reading follows a collection, so garbage moves it by a few KiB either way
// (the gateway's start leaves some; opening the conversations leaves more).
type IdleMemory struct {
	Conversations   int64   `json:"conversations"` // streams open when it was read
	HeapStackKiB    float64 `json:"heap_stack_kib"`
	RSSKiB          float64 `json:"rss_kib"`
	GoroutinesPer   float64 `json:"goroutines_per_conversation"`
	GCsWhileOpening int64   `json:"gcs_while_opening"`
}

// Targets are the goals a run is held to (the figures).
type Targets struct {
	Conversations int     `json:"conversations"`
	P99Ms         float64 `json:"p99_ms"`
	IdleKiB       float64 `json:"idle_kib"`
}

// summarize reduces round-trip samples to their percentiles; it sorts
// samples in place.
func summarize(samples []time.Duration) RoundTrip {
	slices.Sort(samples)
	return RoundTrip{
		Samples: len(samples),
		P50:     ms(percentile(samples, 50)),
		P90:     ms(percentile(samples, 90)),
		P99:     ms(percentile(samples, 99)),
		Max:     ms(percentile(samples, 100)),
	}
}

// percentile is the nearest-rank p-th percentile of sorted samples: the
// smallest sample with at least p% of the samples at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// Misses lists the targets the run did not meet, and its errors; empty
// when it met them all.
func (s *Summary) Misses() []string {
	var m []string
	if s.ErrorCount > 0 {
		m = append(m, fmt.Sprintf("%d errors", s.ErrorCount))
	}
	if t := s.Targets; t.Conversations > 0 && s.Held < int64(t.Conversations) {
		m = append(m, fmt.Sprintf("held %d of %d conversations", s.Held, t.Conversations))
	}
	if t := s.Targets; t.P99Ms > 0 && (s.RoundTrip.Samples == 0 || s.RoundTrip.P99 >= t.P99Ms) {
		m = append(m, fmt.Sprintf("p99 %.1f ms is not under %.0f ms", s.RoundTrip.P99, t.P99Ms))
	}
	if t := s.Targets; t.IdleKiB > 0 && (s.Idle.Conversations == 0 || max(s.Idle.HeapStackKiB, s.Idle.RSSKiB) >= t.IdleKiB) {
		m = append(m, fmt.Sprintf("idle memory %.1f KiB (heap+stack) / %.1f KiB (RSS) is not under %.0f KiB",
			s.Idle.HeapStackKiB, s.Idle.RSSKiB, t.IdleKiB))
	}
	return m
}

// WriteText prints the summary for people (and for docs/benchmarks.md).
func (s *Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "conversations  %d asked, %d opened in %.1fs, %d held to the end\n", s.Conversations, s.Opened, s.OpenS, s.Held)
	fmt.Fprintf(w, "messages       %d sent, %d answered in %gs (one per %gs per conversation, jittered): %.1f per second\n",
		s.Sent, s.Answered, s.DurationS, s.IntervalS, s.PerSecond)
	rt := s.RoundTrip
	fmt.Fprintf(w, "round trip     p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (%d replies)\n", rt.P50, rt.P90, rt.P99, rt.Max, rt.Samples)
	im := s.Idle
	fmt.Fprintf(w, "idle memory    %.1f KiB heap+stack, %.1f KiB RSS per conversation (%d idle streams, %d GCs while opening)\n",
		im.HeapStackKiB, im.RSSKiB, im.Conversations, im.GCsWhileOpening)
	fmt.Fprintf(w, "               the gateway's growth since before the first conversation: HTTP connection, WebSocket,\n")
	fmt.Fprintf(w, "               bus subscription, %.1f goroutines per conversation (garbage not yet collected moves it a little)\n", im.GoroutinesPer)
	fmt.Fprintf(w, "cpu            gateway %.2f cores, sbload %.2f cores during the messages\n", s.GatewayCores, s.LoadCores)
	fmt.Fprintf(w, "errors         %s\n", formatErrors(s.Errors))
	if m := s.Misses(); len(m) > 0 {
		fmt.Fprintf(w, "result         MISSED: %s\n", strings.Join(m, "; "))
	} else {
		fmt.Fprintf(w, "result         ok: %d held, p99 under %.0f ms, under %.0f KiB per idle conversation, no errors\n",
			s.Targets.Conversations, s.Targets.P99Ms, s.Targets.IdleKiB)
	}
}

// formatErrors lists error kinds, the most frequent first.
func formatErrors(errs map[string]int64) string {
	if len(errs) == 0 {
		return "none"
	}
	kinds := slices.SortedFunc(maps.Keys(errs), func(a, b string) int {
		return cmp.Or(cmp.Compare(errs[b], errs[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", errs[k], k)
	}
	return strings.Join(parts, ", ")
}

// maxErrorKinds bounds the distinct error kinds kept; the rest count as
// "other".
const maxErrorKinds = 20

// tally counts errors by kind and keeps the round-trip samples.
type tally struct {
	mu      sync.Mutex
	errs    map[string]int64
	samples []time.Duration
}

func newTally() *tally { return &tally{errs: map[string]int64{}} }

func (t *tally) fail(kind string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.errs[kind]; !ok && len(t.errs) >= maxErrorKinds {
		kind = "other"
	}
	t.errs[kind]++
}

func (t *tally) roundTrip(d time.Duration) {
	t.mu.Lock()
	t.samples = append(t.samples, d)
	t.mu.Unlock()
}

// take returns the samples and errors counted so far.
func (t *tally) take() ([]time.Duration, map[string]int64, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, c := range t.errs {
		n += c
	}
	return slices.Clone(t.samples), maps.Clone(t.errs), n
}
