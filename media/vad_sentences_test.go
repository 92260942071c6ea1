package media

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A sentence of a fixture, in samples at 16 kHz: where its first phoneme
// starts, where its last one ends, and the pauses inside it.
type sentence struct {
	onset, offset int
	pauses        [][2]int
}

// sentenceFixture is one of testdata/vad/sentences-*: flite speech in line
// noise, labelled from the synthesis (scripts/make-vad-fixtures.sh).
type sentenceFixture struct {
	name      string
	pcm       []int16 // 16 kHz
	sentences []sentence
}

func readSentenceFixtures(tb testing.TB) []sentenceFixture {
	tb.Helper()
	names, err := filepath.Glob("testdata/vad/sentences-*.s16")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no sentence fixtures (%v): run scripts/make-vad-fixtures.sh", err)
	}
	var out []sentenceFixture
	for _, n := range names {
		name := strings.TrimSuffix(filepath.Base(n), ".s16")
		out = append(out, sentenceFixture{
			name:      name,
			pcm:       readVADFixture(tb, name+".s16"),
			sentences: readSentences(tb, name+".txt"),
		})
	}
	return out
}

// readSentences reads "ONSET OFFSET [PAUSE_START PAUSE_END]..." lines.
func readSentences(tb testing.TB, name string) []sentence {
	tb.Helper()
	f, err := os.Open("testdata/vad/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []sentence
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var n []int
		for _, field := range strings.Fields(sc.Text()) {
			var v int
			if _, err := fmt.Sscan(field, &v); err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			n = append(n, v)
		}
		if len(n) < 2 || len(n)%2 != 0 {
			tb.Fatalf("%s: %q is not ONSET OFFSET [PAUSE_START PAUSE_END]...", name, sc.Text())
		}
		s := sentence{onset: n[0], offset: n[1]}
		for i := 2; i < len(n); i += 2 {
			s.pauses = append(s.pauses, [2]int{n[i], n[i+1]})
		}
		out = append(out, s)
	}
	return out
}

// endpointing is what the VAD made of a fixture's sentences.
type endpointing struct {
	// delays holds, for each sentence heard as exactly one utterance, the
	// audio time from the end of its last phoneme to the end event.
	delays []time.Duration
	// split counts sentences heard as more than one utterance.
	split int
	// ends are the end events' times, in samples at 16 kHz.
	ends []int
	// problems says what went wrong with any other sentence, or how.
	problems []string
}

// endpoint runs the VAD at rate over the fixture (resampled from 16 kHz)
// and matches its utterances to the sentences. An event's time is the end
// of the frame that brought it: when a caller of Process learns of it.
func endpoint(rate int, cfg VADConfig, f sentenceFixture) endpointing {
	pcm := f.pcm
	if rate != 16000 {
		pcm = Resample(nil, pcm, 16000, rate)
	}
	run := runVAD(rate, cfg, pcm)
	var r endpointing
	for k, s := range f.sentences {
		until := math.MaxInt // the next sentence's onset
		if k+1 < len(f.sentences) {
			until = f.sentences[k+1].onset
		}
		var starts, ends []int
		for i, e := range run.events {
			at := (run.at[i] + 1) * 320 // in samples at 16 kHz
			if at <= s.onset || at > until {
				continue
			}
			if e == VADSpeechStart {
				starts = append(starts, at)
			} else {
				ends = append(ends, at)
				r.ends = append(r.ends, at)
			}
		}
		switch {
		case len(starts) > 1:
			r.split++
			r.problems = append(r.problems, fmt.Sprintf("sentence %d split: utterances end at %v (pauses %v, offset %d)",
				k+1, ends, s.pauses, s.offset))
		case len(starts) == 0 || len(ends) == 0:
			r.problems = append(r.problems, fmt.Sprintf("sentence %d not heard on its own: starts %v, ends %v (onset %d, offset %d)",
				k+1, starts, ends, s.onset, s.offset))
		case ends[0] <= s.offset:
			r.problems = append(r.problems, fmt.Sprintf("sentence %d cut off: ended at %d, before its offset %d",
				k+1, ends[0], s.offset))
		default:
			r.delays = append(r.delays, time.Duration(ends[0]-s.offset)*time.Second/16000)
		}
	}
	return r
}

// percentile is the nearest-rank p-th percentile (0 < p <= 1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	return s[max(0, int(math.Ceil(p*float64(len(s))))-1)]
}

// TestVADEndsEachSentenceOnceAndPromptly runs the detector at its defaults
// over 24 spoken sentences (four flite voices, line noise at -60 and -45
// dBFS) at both telephone rates. Each sentence must be heard as exactly one
// utterance - not split at the 70-230 ms pauses inside it, not merged with
// the next one 1.5 s later - and its end must be detected under 300 ms
// after its last phoneme, in audio time.
func TestVADEndsEachSentenceOnceAndPromptly(t *testing.T) {
	const maxDelay = 300 * time.Millisecond
	fixtures := readSentenceFixtures(t)
	for _, rate := range []int{16000, 8000} {
		for _, f := range fixtures {
			t.Run(fmt.Sprint(f.name, "/", rate), func(t *testing.T) {
				r := endpoint(rate, VADConfig{}, f)
				for _, p := range r.problems {
					t.Error(p)
				}
				t.Logf("end-of-speech delay over %d sentences: p50 %v, max %v (all: %v)",
					len(r.delays), percentile(r.delays, 0.5), percentile(r.delays, 1), r.delays)
				for i, d := range r.delays {
					if d >= maxDelay {
						t.Errorf("sentence %d: end detected %v after the last phoneme, want under %v", i+1, d, maxDelay)
					}
				}
			})
		}
	}
}

// splitPause lengthens pause p of sentence k in 10 ms steps (with line
// noise from the gap after the first sentence) and returns the shortest pause at
// which the VAD hears the sentence as two utterances, or 0 if none up to
// 800 ms does.
func splitPause(rate int, cfg VADConfig, f sentenceFixture, k, p int) time.Duration {
	s := f.sentences[k]
	pause := s.pauses[p]
	mid := (pause[0] + pause[1]) / 2
	gap := f.sentences[0].offset + 4000 // 250 ms into the gap after the first sentence
	noise := f.pcm[gap : gap+800*16]
	end := min(len(f.pcm), s.offset+16000)
	for extra := 0; extra <= len(noise); extra += 160 {
		pcm := slices.Concat(f.pcm[:mid], noise[:extra], f.pcm[mid:end])
		g := sentenceFixture{name: f.name, pcm: pcm, sentences: []sentence{{
			onset: s.onset, offset: s.offset + extra,
		}}}
		// Split here: the first part ends before the pause (lengthened) is
		// over, or while the VAD is still hearing the next phrase in.
		if r := endpoint(rate, cfg, g); r.split > 0 && slices.ContainsFunc(r.ends, func(at int) bool {
			return at > pause[0] && at <= pause[1]+extra+1600
		}) {
			return time.Duration(pause[1]-pause[0]+extra) * time.Second / 16000
		}
	}
	return 0
}

// BenchmarkVADEndOfSpeech reports, over all the sentence fixtures at each
// rate, how the default end-pointing does, and at EndSilence 500 ms (the
// default before) and 280 ms (the longest that keeps detection under
// 300 ms): sentences split, the end-of-speech detection delay in audio
// time, and the shortest pause inside a sentence that splits it when the
// pauses are lengthened one at a time.
func BenchmarkVADEndOfSpeech(b *testing.B) {
	fixtures := readSentenceFixtures(b)
	for _, rate := range []int{16000, 8000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			for b.Loop() {
				for _, c := range []struct {
					prefix string
					cfg    VADConfig
				}{
					{"", VADConfig{}},
					{"500ms-", VADConfig{EndSilence: 500 * time.Millisecond}},
					{"280ms-", VADConfig{EndSilence: 280 * time.Millisecond}},
				} {
					var delays []time.Duration
					var sentences, split int
					splitAt := time.Duration(math.MaxInt64)
					for _, f := range fixtures {
						r := endpoint(rate, c.cfg, f)
						sentences += len(f.sentences)
						split += r.split
						delays = append(delays, r.delays...)
						for k, s := range f.sentences {
							for p := range s.pauses {
								if d := splitPause(rate, c.cfg, f, k, p); d > 0 {
									splitAt = min(splitAt, d)
								}
							}
						}
					}
					ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
					b.ReportMetric(float64(sentences), c.prefix+"sentences")
					b.ReportMetric(float64(split), c.prefix+"splits")
					b.ReportMetric(ms(percentile(delays, 0.5)), c.prefix+"detect-p50-ms")
					b.ReportMetric(ms(percentile(delays, 0.99)), c.prefix+"detect-p99-ms")
					b.ReportMetric(ms(percentile(delays, 1)), c.prefix+"detect-max-ms")
					b.ReportMetric(ms(splitAt), c.prefix+"split-pause-ms")
				}
			}
		})
	}
}
