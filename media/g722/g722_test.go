package g722

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"switchboard/media"
)

// The golden files are FFmpeg's; scripts/make-g722-golden.sh explains them.
const golden = "../testdata/g722"

// frame is 20 ms at 16 kHz: the codec is fed as the RTP path feeds it, so
// the tests also prove the state carries across calls.
const frame = 320

func TestDecoderMatchesFFmpeg(t *testing.T) {
	stream := readFile(t, "speech.g722")
	want := readS16(t, "speech.dec.s16")

	d := NewDecoder()
	var got []int16
	for chunk := range slices(stream, frame/2) {
		got = d.Decode(got, chunk)
	}
	assertSamplesEqual(t, got, want)
}

func TestEncoderMatchesFFmpeg(t *testing.T) {
	pcm := readS16(t, "speech.s16")
	want := readFile(t, "speech.g722")

	e := NewEncoder()
	var got []byte
	for chunk := range slices(pcm, frame) {
		got = e.Encode(got, chunk)
	}
	if len(got) != len(want) {
		t.Fatalf("encoded %d bytes, ffmpeg %d", len(got), len(want))
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("bitstream differs from ffmpeg's at byte %d of %d: got %#02x, want %#02x", i, len(want), got[i], want[i])
	}
}

// TestRoundTripKeepsSpeech checks what a caller hears: our encoder and
// decoder in a loop keep speech intelligible (SNR over 15 dB once the QMF
// pair's delay is taken into account).
func TestRoundTripKeepsSpeech(t *testing.T) {
	pcm := readS16(t, "speech.s16")[:16000] // the speech, not the sweep
	out := NewDecoder().Decode(nil, NewEncoder().Encode(nil, pcm))
	if len(out) != len(pcm) {
		t.Fatalf("round trip gave %d samples for %d", len(out), len(pcm))
	}
	lag, best := 0, math.Inf(-1)
	for l := 0; l < 64; l++ {
		if s := snr(pcm[:len(pcm)-l], out[l:]); s > best {
			lag, best = l, s
		}
	}
	t.Logf("round trip: SNR %.1f dB at a delay of %d samples", best, lag)
	if best < 15 {
		t.Errorf("round-trip SNR %.1f dB, want > 15 dB", best)
	}
	if lag != 22 {
		t.Errorf("round-trip delay %d samples, want the QMF pair's 22", lag)
	}
}

func TestEncodeOddLengthRepeatsLastSample(t *testing.T) {
	pcm := readS16(t, "speech.s16")[:frame+1]
	got := NewEncoder().Encode(nil, pcm)
	want := NewEncoder().Encode(nil, append(pcm[:frame:frame], pcm[frame], pcm[frame]))
	if len(got) != frame/2+1 || !bytes.Equal(got, want) {
		t.Fatalf("odd input: got %d bytes %x..., want %d bytes equal to padding with the last sample", len(got), got[len(got)-1], len(want))
	}
}

func TestRegisteredCodecsAreIndependent(t *testing.T) {
	pcm := readS16(t, "speech.s16")
	want := readFile(t, "speech.g722")

	a, err := media.NewCodec("g722", 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := media.NewCodec("G722", 9)
	if a.Name() != "G722" || a.PayloadType() != 9 || a.ClockRate() != 8000 || a.SampleRate() != 16000 {
		t.Fatalf("codec = %s/%d clock %d rate %d, want G722/9 clock 8000 rate 16000",
			a.Name(), a.PayloadType(), a.ClockRate(), a.SampleRate())
	}
	// Interleaving two codecs must not mix their state.
	var outA, outB []byte
	for chunk := range slices(pcm, frame) {
		outA = a.Encode(outA, chunk)
		outB = b.Encode(outB, chunk)
	}
	if !bytes.Equal(outA, want) || !bytes.Equal(outB, want) {
		t.Fatal("interleaved codecs do not each produce ffmpeg's bitstream")
	}
	if got := a.Decode(nil, want[:frame/2]); len(got) != frame {
		t.Fatalf("decoded %d samples from %d bytes", len(got), frame/2)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 160))
	f.Add(bytes.Repeat([]byte{0x00, 0x3f, 0xc0, 0x7f}, 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder()
		out := d.Decode(nil, data)
		if len(out) != 2*len(data) {
			t.Fatalf("decoded %d samples from %d bytes", len(out), len(data))
		}
		// Re-encoding whatever came out must not panic either.
		if enc := NewEncoder().Encode(nil, out); len(enc) != len(data) {
			t.Fatalf("re-encoded %d bytes from %d samples", len(enc), len(out))
		}
	})
}

func BenchmarkG722Encode(b *testing.B) {
	pcm := readS16(b, "speech.s16")[:frame]
	e := NewEncoder()
	dst := make([]byte, 0, frame/2)
	b.SetBytes(frame * 2)
	for b.Loop() {
		dst = e.Encode(dst[:0], pcm)
	}
	reportRealtime(b)
}

func BenchmarkG722Decode(b *testing.B) {
	data := readFile(b, "speech.g722")[:frame/2]
	d := NewDecoder()
	dst := make([]int16, 0, frame)
	b.SetBytes(frame / 2)
	for b.Loop() {
		dst = d.Decode(dst[:0], data)
	}
	reportRealtime(b)
}

// reportRealtime reports how many calls' worth of one direction one core
// keeps up with: 20 ms of audio per iteration.
func reportRealtime(b *testing.B) {
	perFrame := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(0.020/perFrame, "x-realtime")
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(golden, name))
	if err != nil {
		tb.Fatalf("%v (run scripts/make-g722-golden.sh)", err)
	}
	return data
}

func readS16(tb testing.TB, name string) []int16 {
	tb.Helper()
	data := readFile(tb, name)
	pcm := make([]int16, len(data)/2)
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, pcm); err != nil {
		tb.Fatal(err)
	}
	return pcm
}

// slices yields s in chunks of n (the last may be shorter).
func slices[S ~[]E, E any](s S, n int) func(func(S) bool) {
	return func(yield func(S) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

func firstDiff[E comparable](a, b []E) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func assertSamplesEqual(t *testing.T, got, want []int16) {
	t.Helper()
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("%d samples differ from ffmpeg's %d, first at %d (SNR %.1f dB)",
			countDiff(got, want), len(want), i, snr(want, got))
	}
}

func countDiff(a, b []int16) int {
	n := max(len(a), len(b)) - min(len(a), len(b))
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// snr is the signal-to-noise ratio of got against ref in dB.
func snr(ref, got []int16) float64 {
	var sig, noise float64
	for i := range min(len(ref), len(got)) {
		r := float64(ref[i])
		e := r - float64(got[i])
		sig += r * r
		noise += e * e
	}
	return 10 * math.Log10(sig/max(noise, 1e-9))
}
