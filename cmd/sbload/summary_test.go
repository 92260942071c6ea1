package main

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func millis(ns ...int) []time.Duration {
	d := make([]time.Duration, len(ns))
	for i, n := range ns {
		d[i] = time.Duration(n) * time.Millisecond
	}
	return d
}

// oneToHundred is 1..100 ms in a shuffled order.
func oneToHundred() []time.Duration {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
	return d
}

func TestSummarizeTakesNearestRankPercentiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		want    RoundTrip
	}{
		{"no replies", nil, RoundTrip{}},
		{"one reply", millis(7), RoundTrip{Samples: 1, P50: 7, P90: 7, P99: 7, Max: 7}},
		{"two replies", millis(9, 1), RoundTrip{Samples: 2, P50: 1, P90: 9, P99: 9, Max: 9}},
		{"1..100 ms shuffled", oneToHundred(), RoundTrip{Samples: 100, P50: 50, P90: 90, P99: 99, Max: 100}},
		{"one slow reply in a hundred is the max, not the p99",
			append(millis(make([]int, 99)...), 4*time.Second),
			RoundTrip{Samples: 100, P50: 0, P90: 0, P99: 0, Max: 4000}},
		{"two slow replies in a hundred reach the p99",
			append(millis(make([]int, 98)...), 3*time.Second, 4*time.Second),
			RoundTrip{Samples: 100, P99: 3000, Max: 4000}},
		{"sub-millisecond replies keep microseconds",
			[]time.Duration{1500 * time.Microsecond, 250 * time.Microsecond},
			RoundTrip{Samples: 2, P50: 0.25, P90: 1.5, P99: 1.5, Max: 1.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(tc.samples); got != tc.want {
				t.Errorf("summarize = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSummaryReportsErrorsAndMissedTargets(t *testing.T) {
	targets := Targets{Conversations: 100, P99Ms: 50, IdleKiB: 64}
	good := Summary{Held: 100, RoundTrip: RoundTrip{Samples: 10, P99: 12}, Idle: IdleMemory{Conversations: 100, HeapStackKiB: 20, RSSKiB: 30}, Targets: targets}
	for _, tc := range []struct {
		name   string
		change func(*Summary)
		want   string // in the result line
	}{
		{"all met", func(*Summary) {}, "result         ok: 100 held"},
		{"errors", func(s *Summary) {
			s.Errors, s.ErrorCount = map[string]int64{"no reply within 5s": 3, "create: HTTP 429": 5}, 8
		}, "MISSED: 8 errors"},
		{"conversations lost", func(s *Summary) { s.Held = 97 }, "MISSED: held 97 of 100"},
		{"slow p99", func(s *Summary) { s.RoundTrip.P99 = 50 }, "MISSED: p99 50.0 ms is not under 50 ms"},
		{"no replies at all", func(s *Summary) { s.RoundTrip = RoundTrip{} }, "MISSED: p99 0.0 ms is not under 50 ms"},
		{"heavy idle streams", func(s *Summary) { s.Idle.RSSKiB = 70 }, "MISSED: idle memory 20.0 KiB (heap+stack) / 70.0 KiB (RSS)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.change(&s)
			var b bytes.Buffer
			s.WriteText(&b)
			if !strings.Contains(b.String(), tc.want) {
				t.Errorf("report does not say %q:\n%s", tc.want, b.String())
			}
		})
	}
}

func TestErrorsAreListedMostFrequentFirst(t *testing.T) {
	got := formatErrors(map[string]int64{"stream closed: close 1013 StatusTryAgainLater": 2, "create: HTTP 429": 5, "dial: timeout": 2})
	want := "5 create: HTTP 429, 2 dial: timeout, 2 stream closed: close 1013 StatusTryAgainLater"
	if got != want {
		t.Errorf("formatErrors = %q, want %q", got, want)
	}
	if got := formatErrors(nil); got != "none" {
		t.Errorf("formatErrors(nil) = %q, want none", got)
	}
}
