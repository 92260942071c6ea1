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

// The voice channel runs the VAD with a short end silence and joins the
// pieces of a sentence that the VAD splits at a pause, when the caller is
// heard resuming before the first piece's words are recognised (see
// channels/voice/engine/endpoint.go). These are what that needs of the VAD.
const (
	// shippedEndOfSpeech is channels.voice.end_of_speech in
	// configs/switchboard.yaml, the EndSilence that calls run with.
	shippedEndOfSpeech = 260 * time.Millisecond
	// maxDetectDelay bounds the time from a sentence's last phoneme to the
	// VAD's end event, in audio time.
	maxDetectDelay = 300 * time.Millisecond
	// resumeWithin bounds the time from a split's end event to the start
	// event of the rest of the sentence. The worker joins the two when
	// that start comes before the first piece's words are recognised:
	// pocketsphinx takes 0.5 s and more, an upload to a transcription
	// endpoint a round trip plus its work. Should a recogniser ever be
	// faster, the start still comes before the reply is spoken (the model
	// and the synthesiser take longer), and barge-in cancels that reply.
	resumeWithin = 300 * time.Millisecond
)

// endpointing is what the VAD made of a fixture's sentences.
type endpointing struct {
	// sentences counts the sentences judged.
	sentences int
	// delays holds, for each sentence heard whole (in one piece or in
	// pieces), the audio time from the end of its last phoneme to the end
	// event of its last piece.
	delays []measure
	// split counts sentences heard as more than one utterance, and resumes
	// holds, for each split, the time from its end event to the next start.
	split   int
	resumes []measure
	// ends are the end events' times, in samples at 16 kHz.
	ends []int
	// problems says what went wrong with any other sentence, or how.
	problems []string
}

// A measure is a time measured at an event of a sentence.
type measure struct {
	sentence int // in its fixture, from 1
	at       int // the event, in samples at 16 kHz
	d        time.Duration
}

// durations are the measures' times.
func durations(ms []measure) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = m.d
	}
	return out
}

// add counts o's sentences in with r's.
func (r *endpointing) add(o endpointing) {
	r.sentences += o.sentences
	r.delays = append(r.delays, o.delays...)
	r.split += o.split
	r.resumes = append(r.resumes, o.resumes...)
	r.ends = append(r.ends, o.ends...)
	r.problems = append(r.problems, o.problems...)
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
			}
		}
		r.ends = append(r.ends, ends...)
		r.judge(k+1, s, starts, ends)
	}
	return r
}

// judge records how sentence n was heard, given the start and end events
// between its onset and the next sentence's. Events alternate, so one
// utterance or more lie wholly inside it if the first is a start and the
// last an end.
func (r *endpointing) judge(n int, s sentence, starts, ends []int) {
	r.sentences++
	samples := func(d int) time.Duration { return time.Duration(d) * time.Second / 16000 }
	switch {
	case len(starts) == 0 || len(starts) != len(ends) || ends[0] < starts[0]:
		r.problems = append(r.problems, fmt.Sprintf("sentence %d not heard on its own: starts %v, ends %v (onset %d, offset %d)",
			n, starts, ends, s.onset, s.offset))
		return
	case ends[len(ends)-1] <= s.offset:
		r.problems = append(r.problems, fmt.Sprintf("sentence %d cut off: last utterance ended at %d, before its offset %d (starts %v, ends %v, pauses %v)",
			n, ends[len(ends)-1], s.offset, starts, ends, s.pauses))
		return
	}
	last := ends[len(ends)-1]
	r.delays = append(r.delays, measure{n, last, samples(last - s.offset)})
	if len(starts) > 1 {
		r.split++
	}
	for i, end := range ends[:len(ends)-1] {
		r.resumes = append(r.resumes, measure{n, end, samples(starts[i+1] - end)})
	}
}

// percentile is the nearest-rank p-th percentile (0 < p <= 1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	return s[max(0, int(math.Ceil(p*float64(len(s))))-1)]
}

// TestVADEndPointingAtTheShippedEndOfSpeech runs the detector at the
// shipped end_of_speech over 24 spoken sentences (four flite voices, line
// noise at -60 and -45 dBFS) at both telephone rates. The end of each
// sentence must be detected under maxDetectDelay after its last phoneme,
// in audio time. A sentence may be split at the 70-230 ms pauses inside
// it, as long as every piece but the last is followed within resumeWithin
// by the start of the next, so that the voice channel joins them; it must
// not be merged with the next sentence 1.5 s later, nor lose its end.
func TestVADEndPointingAtTheShippedEndOfSpeech(t *testing.T) {
	fixtures := readSentenceFixtures(t)
	for _, rate := range []int{16000, 8000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			var all endpointing
			for _, f := range fixtures {
				t.Run(f.name, func(t *testing.T) {
					r := endpoint(rate, VADConfig{EndSilence: shippedEndOfSpeech}, f)
					all.add(r)
					checkEndpointing(t, r)
				})
			}
			delays := durations(all.delays)
			t.Logf("%d sentences: end-of-speech delay p50 %v, max %v; %d split, resumed after at most %v",
				all.sentences, percentile(delays, 0.5), percentile(delays, 1),
				all.split, percentile(durations(all.resumes), 1))
		})
	}
}

// checkEndpointing fails t for each sentence heard wrongly, detected late
// or split beyond joining.
func checkEndpointing(t *testing.T, r endpointing) {
	t.Helper()
	for _, p := range r.problems {
		t.Error(p)
	}
	for _, m := range r.delays {
		if m.d >= maxDetectDelay {
			t.Errorf("sentence %d: end detected at %d, %v after the last phoneme, want under %v",
				m.sentence, m.at, m.d, maxDetectDelay)
		}
	}
	for _, m := range r.resumes {
		if m.d >= resumeWithin {
			t.Errorf("sentence %d split at %d: speech started again %v after, want under %v",
				m.sentence, m.at, m.d, resumeWithin)
		}
	}
	delays := durations(r.delays)
	t.Logf("end-of-speech delay: p50 %v, max %v (all: %v); %d split, resumed after %v",
		percentile(delays, 0.5), percentile(delays, 1), delays, r.split, durations(r.resumes))
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
// rate, how end-pointing does at the shipped end_of_speech and, prefixed
// 500ms-, at the VAD's default: sentences split, the largest gap from a
// split to the caller heard resuming, the end-of-speech detection delay in
// audio time, and the shortest pause inside a sentence that splits it when
// the pauses are lengthened one at a time.
func BenchmarkVADEndOfSpeech(b *testing.B) {
	fixtures := readSentenceFixtures(b)
	for _, rate := range []int{16000, 8000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			for b.Loop() {
				for _, c := range []struct {
					prefix string
					cfg    VADConfig
				}{
					{"", VADConfig{EndSilence: shippedEndOfSpeech}},
					{"500ms-", VADConfig{EndSilence: 500 * time.Millisecond}},
				} {
					var all endpointing
					for _, f := range fixtures {
						all.add(endpoint(rate, c.cfg, f))
					}
					ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
					b.ReportMetric(float64(all.sentences), c.prefix+"sentences")
					b.ReportMetric(float64(all.split), c.prefix+"splits")
					b.ReportMetric(ms(percentile(durations(all.resumes), 1)), c.prefix+"resume-max-ms")
					delays := durations(all.delays)
					b.ReportMetric(ms(percentile(delays, 0.5)), c.prefix+"detect-p50-ms")
					b.ReportMetric(ms(percentile(delays, 0.99)), c.prefix+"detect-p99-ms")
					b.ReportMetric(ms(percentile(delays, 1)), c.prefix+"detect-max-ms")
					b.ReportMetric(ms(shortestSplitPause(rate, c.cfg, fixtures)), c.prefix+"split-pause-ms")
				}
			}
		})
	}
}

// shortestSplitPause is the shortest pause that splits a sentence when the
// pauses are lengthened one at a time (see splitPause).
func shortestSplitPause(rate int, cfg VADConfig, fixtures []sentenceFixture) time.Duration {
	shortest := time.Duration(math.MaxInt64)
	for _, f := range fixtures {
		for k, s := range f.sentences {
			for p := range s.pauses {
				if d := splitPause(rate, cfg, f, k, p); d > 0 {
					shortest = min(shortest, d)
				}
			}
		}
	}
	return shortest
}
