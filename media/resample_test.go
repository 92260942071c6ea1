package media

import (
	"math"
	"slices"
	"testing"
)

func tone(hz float64, rate int, seconds float64, amp float64) []int16 {
	pcm := make([]int16, int(seconds*float64(rate)))
	for i := range pcm {
		pcm[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return pcm
}

// rmsDB is the RMS level of pcm in dB full scale.
func rmsDB(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return 10 * math.Log10(max(sum/float64(len(pcm)), 1e-10)/(32768*32768))
}

// snrDB is the signal-to-noise ratio of got against ref.
func snrDB(ref, got []int16) float64 {
	var sig, noise float64
	for i := range min(len(ref), len(got)) {
		e := float64(ref[i]) - float64(got[i])
		sig += float64(ref[i]) * float64(ref[i])
		noise += e * e
	}
	return 10 * math.Log10(sig/max(noise, 1e-9))
}

// inner drops the first and last 10 ms, where a whole-buffer conversion
// sees the zeros around the buffer.
func inner(pcm []int16, rate int) []int16 { return pcm[rate/100 : len(pcm)-rate/100] }

func TestResampleKeepsSpeechBandTones(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hz       float64
		from, to int
		minSNR   float64
	}{
		{"1 kHz 16k to 8k to 16k", 1000, 16000, 8000, 50},
		{"3 kHz 16k to 8k to 16k", 3000, 16000, 8000, 35},
		{"1 kHz 8k to 16k to 8k", 1000, 8000, 16000, 50},
		// Linear interpolation back up from 8 kHz is what limits this one.
		{"1 kHz 24k to 8k to 24k (fallback)", 1000, 24000, 8000, 22},
		{"1 kHz 16k to 22.05k to 16k (fallback)", 1000, 16000, 22050, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tone(tc.hz, tc.from, 1, 10000)
			mid := Resample(nil, in, tc.from, tc.to)
			if want := len(in) * tc.to / tc.from; len(mid) != want {
				t.Fatalf("%d samples at %d Hz became %d at %d Hz, want %d", len(in), tc.from, len(mid), tc.to, want)
			}
			back := Resample(nil, mid, tc.to, tc.from)
			if len(back) != len(in) {
				t.Fatalf("round trip gave %d samples for %d", len(back), len(in))
			}
			s := snrDB(inner(in, tc.from), inner(back, tc.from))
			t.Logf("SNR %.1f dB", s)
			if s < tc.minSNR {
				t.Errorf("round-trip SNR %.1f dB, want > %.0f dB", s, tc.minSNR)
			}
		})
	}
}

// TestResampleDownRejectsAliases checks the low-pass: a tone above the
// target's Nyquist frequency would fold back into the speech band.
func TestResampleDownRejectsAliases(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hz       float64
		from, to int
		minDB    float64
	}{
		{"6 kHz 16k to 8k", 6000, 16000, 8000, 30},
		{"5 kHz 16k to 8k", 5000, 16000, 8000, 30},
		{"7.5 kHz 16k to 8k", 7500, 16000, 8000, 30},
		{"6 kHz 24k to 8k (fallback)", 6000, 24000, 8000, 30},
		{"10 kHz 48k to 16k (fallback)", 10000, 48000, 16000, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tone(tc.hz, tc.from, 1, 10000)
			out := Resample(nil, in, tc.from, tc.to)
			att := rmsDB(inner(in, tc.from)) - rmsDB(inner(out, tc.to))
			t.Logf("attenuation %.1f dB", att)
			if att < tc.minDB {
				t.Errorf("attenuation %.1f dB, want > %.0f dB", att, tc.minDB)
			}
		})
	}
}

// TestResampleFlushesTail checks that a whole-buffer conversion ends with
// the input's last samples, not with silence. On a constant signal the
// last output is the filter's step response half-way (about half the level,
// plus the sharp filter's ringing), or for ceil's extra sample when going
// up by a fraction, interpolated towards the silence after the end.
func TestResampleFlushesTail(t *testing.T) {
	for _, rates := range [][2]int{{16000, 8000}, {8000, 16000}, {24000, 8000}, {48000, 8000}, {8000, 11025}} {
		in := make([]int16, rates[0]/10)
		for i := range in {
			in[i] = 1000
		}
		out := Resample(nil, in, rates[0], rates[1])
		if last := out[len(out)-1]; last < 300 || last > 1100 {
			t.Errorf("%d->%d: last sample %d of a constant 1000", rates[0], rates[1], last)
		}
		if mid := out[len(out)/2]; mid < 995 || mid > 1005 {
			t.Errorf("%d->%d: middle sample %d of a constant 1000", rates[0], rates[1], mid)
		}
	}
}

// TestResamplerFramesJoinUp checks the streaming form: feeding 20 ms frames
// (or ragged ones) gives exactly what one call on the whole signal gives,
// so there are no clicks at frame boundaries.
func TestResamplerFramesJoinUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to int
		frame    int
	}{
		{"16k to 8k, 20 ms", 16000, 8000, 320},
		{"16k to 8k, odd frames", 16000, 8000, 161},
		{"8k to 16k, 20 ms", 8000, 16000, 160},
		{"24k to 8k, 20 ms", 24000, 8000, 480},
		{"22.05k to 16k, odd frames", 22050, 16000, 441},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tone(440, tc.from, 0.5, 12000)
			whole := NewResampler(tc.from, tc.to).Process(nil, in)
			r := NewResampler(tc.from, tc.to)
			var framed []int16
			for i := 0; i < len(in); i += tc.frame {
				framed = r.Process(framed, in[i:min(i+tc.frame, len(in))])
			}
			if len(framed) != len(whole) {
				t.Fatalf("framed gave %d samples, whole %d", len(framed), len(whole))
			}
			for i := range whole {
				if framed[i] != whole[i] {
					t.Fatalf("sample %d: framed %d, whole %d", i, framed[i], whole[i])
				}
			}
		})
	}
}

func TestResamplerFrameSizes(t *testing.T) {
	for _, tc := range []struct {
		from, to, in, out int
	}{
		{16000, 8000, 320, 160},
		{8000, 16000, 160, 320},
		{8000, 8000, 160, 160},
		{24000, 8000, 480, 160},
		{48000, 16000, 960, 320},
	} {
		r := NewResampler(tc.from, tc.to)
		for i := range 5 {
			if got := len(r.Process(nil, make([]int16, tc.in))); got != tc.out {
				t.Errorf("%d->%d frame %d: %d samples out of %d, want %d", tc.from, tc.to, i, got, tc.in, tc.out)
			}
		}
	}
}

func TestResampleIdentityAndInvalidRatesCopy(t *testing.T) {
	in := tone(440, 8000, 0.01, 1000)
	for _, rates := range [][2]int{{8000, 8000}, {0, 8000}, {16000, -1}} {
		out := Resample([]int16{7}, in, rates[0], rates[1])
		if len(out) != len(in)+1 || out[0] != 7 || !slices.Equal(in, out[1:]) {
			t.Errorf("%v: want dst followed by an exact copy", rates)
		}
	}
}

func BenchmarkResampler(b *testing.B) {
	for _, bc := range []struct {
		name     string
		from, to int
	}{{"16k-8k", 16000, 8000}, {"8k-16k", 8000, 16000}, {"24k-8k", 24000, 8000}} {
		b.Run(bc.name, func(b *testing.B) {
			in := tone(440, bc.from, 0.02, 10000)
			r := NewResampler(bc.from, bc.to)
			var dst []int16
			for b.Loop() {
				dst = r.Process(dst[:0], in)
			}
			b.ReportMetric(0.020/(b.Elapsed().Seconds()/float64(b.N)), "x-realtime")
		})
	}
}
