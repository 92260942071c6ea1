package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// vadRun is what a VAD made of a recording: the events, by 20 ms frame.
type vadRun struct {
	at     []int
	events []VADEvent
}

func runVAD(rate int, cfg VADConfig, pcm []int16) vadRun {
	v := NewVAD(rate, cfg)
	frame := rate / 50
	var r vadRun
	for i := 0; i+frame <= len(pcm); i += frame {
		if e := v.Process(pcm[i : i+frame]); e != VADNone {
			r.at = append(r.at, i/frame)
			r.events = append(r.events, e)
		}
	}
	return r
}

// TestVADFindsTwoUtterancesInNoise runs the detector over real speech (two
// flite utterances a second apart, in white noise at -45 dBFS) at both
// telephone rates, and checks it finds exactly two utterances where they
// are: started MinSpeech after each onset, ended EndSilence after each
// offset, give or take a few frames for syllables that fade.
func TestVADFindsTwoUtterancesInNoise(t *testing.T) {
	pcm16 := readVADFixture(t, "two-utterances.s16")
	labels := readLabels(t, "two-utterances.txt") // in samples at 16 kHz
	cfg := VADConfig{}                            // the defaults: 120 ms, 500 ms
	const minSpeech, endSilence = 6, 25           // in 20 ms frames
	const early, late = 3, 4                      // tolerance in frames

	for _, rate := range []int{16000, 8000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			pcm := pcm16
			if rate != 16000 {
				pcm = Resample(nil, pcm16, 16000, rate)
			}
			got := runVAD(rate, cfg, pcm)
			want := []VADEvent{VADSpeechStart, VADSpeechEnd, VADSpeechStart, VADSpeechEnd}
			if fmt.Sprint(got.events) != fmt.Sprint(want) {
				t.Fatalf("events %v at frames %v, want %v", got.events, got.at, want)
			}
			for u, l := range labels {
				onset, offset := l[0]/320, (l[1]+319)/320 // 20 ms frames
				start, end := got.at[2*u], got.at[2*u+1]
				t.Logf("utterance %d: frames %d-%d, start event at %d (+%d), end event at %d: end-of-speech delay %d frames (%v)",
					u+1, onset, offset, start, start-onset, end, end-offset, time.Duration(end-offset)*20*time.Millisecond)
				if d := start - onset; d < minSpeech-early || d > minSpeech+late {
					t.Errorf("utterance %d: start event %d frames after onset, want %d±", u+1, d, minSpeech)
				}
				if d := end - offset; d < endSilence-early || d > endSilence+late {
					t.Errorf("utterance %d: end event %d frames after offset, want %d±", u+1, d, endSilence)
				}
			}
		})
	}
}

func TestVADIgnoresNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	white := func(n int, amp float64) []int16 {
		pcm := make([]int16, n)
		for i := range pcm {
			pcm[i] = int16(amp * (2*rng.Float64() - 1))
		}
		return pcm
	}
	for _, tc := range []struct {
		name string
		pcm  []int16
	}{
		{"quiet white noise", white(10*8000, 300)},                               // about -45 dBFS
		{"loud white noise", white(10*8000, 10000)},                              // about -15 dBFS: a car, a fan
		{"digital silence", make([]int16, 10*8000)},                              // muted or concealed loss
		{"silence then hiss", append(make([]int16, 8000), white(9*8000, 30)...)}, // -65 dBFS
		{"hiss with lost packets", lossy(white(10*8000, 300))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runVAD(8000, VADConfig{}, tc.pcm); len(got.events) != 0 {
				t.Fatalf("events %v at frames %v in noise, want none", got.events, got.at)
			}
		})
	}
}

// TestVADLearnsLouderNoise: when the line gets 25 dB noisier (a fan
// switched on), the detector may take the change for speech, but ends it
// within seconds - not at MaxUtterance - and then stays quiet.
func TestVADLearnsLouderNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pcm := make([]int16, 30*8000)
	for i := range pcm {
		amp := 30.0 // -65 dBFS for 2 s, then -40 dBFS
		if i >= 2*8000 {
			amp = 540
		}
		pcm[i] = int16(amp * (2*rng.Float64() - 1))
	}
	got := runVAD(8000, VADConfig{}, pcm)
	t.Logf("events %v at frames %v", got.events, got.at)
	if len(got.events) > 2 {
		t.Fatalf("%d events, want at most one false utterance", len(got.events))
	}
	if len(got.events) == 2 && got.at[1]-100 > 5*50 {
		t.Fatalf("false utterance ended %d frames after the change, want within 5 s", got.at[1]-100)
	}
}

// lossy zeroes every 17th 20 ms frame, as concealment of lost packets does.
func lossy(pcm []int16) []int16 {
	for i := 16 * 160; i+160 <= len(pcm); i += 17 * 160 {
		clear(pcm[i : i+160])
	}
	return pcm
}

// TestVADEndpointing checks the timing rules on synthetic sound: bursts
// of a tone whose level rises and falls by 20 dB four times a second, like
// syllables, peaking at -18 dBFS, in -65 dBFS noise.
func TestVADEndpointing(t *testing.T) {
	const rate = 8000
	rng := rand.New(rand.NewPCG(3, 4))
	signal := func(parts ...float64) []int16 { // alternating noise, "speech" seconds
		var pcm []int16
		for i, sec := range parts {
			chunk := tone(440, rate, sec, 4000)
			for j := range chunk {
				syllables := 0.55 + 0.45*math.Sin(2*math.Pi*4*float64(j)/rate)
				if i%2 == 0 {
					syllables = 0
				}
				chunk[j] = int16(float64(chunk[j])*syllables + 30*(2*rng.Float64()-1))
			}
			pcm = append(pcm, chunk...)
		}
		return pcm
	}
	for _, tc := range []struct {
		name string
		cfg  VADConfig
		pcm  []int16
		want string // events: frame
	}{
		// Tone in frames 50-99: the start comes with the 6th frame of it
		// (MinSpeech), the end with the 25th quiet one (EndSilence).
		{"one burst", VADConfig{}, signal(1, 1, 1),
			"[speech-start speech-end] [55 124]"},
		{"short click is not speech", VADConfig{}, signal(1, 0.1, 1), "[] []"},
		{"gap shorter than EndSilence joins", VADConfig{}, signal(1, 1, 0.3, 1, 1),
			"[speech-start speech-end] [55 189]"},
		{"MaxUtterance forces an end", VADConfig{MaxUtterance: 2 * time.Second}, signal(1, 5, 1),
			"[speech-start speech-end speech-start speech-end speech-start speech-end] [55 149 155 249 255 324]"},
		{"custom EndSilence", VADConfig{EndSilence: time.Second, MinSpeech: 40 * time.Millisecond}, signal(1, 1, 2),
			"[speech-start speech-end] [51 149]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runVAD(rate, tc.cfg, tc.pcm)
			if s := fmt.Sprint(got.events, " ", got.at); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}

func TestVADResetKeepsFloorDropsUtterance(t *testing.T) {
	pcm := readVADFixture(t, "two-utterances.s16")
	v := NewVAD(16000, VADConfig{})
	var started bool
	for i := 0; i+320 <= len(pcm) && !started; i += 320 {
		started = v.Process(pcm[i:i+320]) == VADSpeechStart
	}
	if !started || !v.InSpeech() {
		t.Fatal("no speech start in the fixture")
	}
	floor := v.NoiseFloor()
	v.Reset()
	if v.InSpeech() || v.NoiseFloor() != floor {
		t.Fatalf("after Reset: in speech %v, floor %.1f (was %.1f)", v.InSpeech(), v.NoiseFloor(), floor)
	}
}

func BenchmarkVAD(b *testing.B) {
	pcm := readVADFixture(b, "two-utterances.s16")
	v := NewVAD(16000, VADConfig{})
	i := 0
	for b.Loop() {
		if i+320 > len(pcm) {
			i = 0
		}
		v.Process(pcm[i : i+320])
		i += 320
	}
	b.ReportMetric(0.020/(b.Elapsed().Seconds()/float64(b.N)), "x-realtime")
}

func readVADFixture(tb testing.TB, name string) []int16 {
	tb.Helper()
	data, err := os.ReadFile("testdata/vad/" + name)
	if err != nil {
		tb.Fatalf("%v (run scripts/make-vad-fixtures.sh)", err)
	}
	pcm := make([]int16, len(data)/2)
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, pcm); err != nil {
		tb.Fatal(err)
	}
	return pcm
}

func readLabels(tb testing.TB, name string) [][2]int {
	tb.Helper()
	f, err := os.Open("testdata/vad/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out [][2]int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l [2]int
		if _, err := fmt.Sscan(sc.Text(), &l[0], &l[1]); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		out = append(out, l)
	}
	return out
}
