package opus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"testing"

	"switchboard/media"
)

// The tests run at the registered codec's PCM rate; frame is 20 ms of it.
const (
	rate  = DefaultRate
	frame = rate / 50
)

// speech is flite saying "Hello, good morning. I have a question."
// (testdata/audio, made by scripts/make-audio.sh, 16 kHz), at r Hz and
// cut to whole 20 ms frames.
func speech(tb testing.TB, r int) []int16 {
	tb.Helper()
	b, err := os.ReadFile("../../testdata/audio/greeting.wav")
	if err != nil {
		tb.Fatal(err)
	}
	i := bytes.Index(b, []byte("data"))
	if i < 0 || len(b) < i+8 {
		tb.Fatal("greeting.wav: no data chunk")
	}
	b = b[i+8:]
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	pcm = media.Resample(nil, pcm, 16000, r)
	return pcm[:len(pcm)/(r/50)*(r/50)]
}

// frames splits pcm at r Hz into 20 ms frames.
func frames(pcm []int16, r int) [][]int16 {
	var out [][]int16
	for n := r / 50; len(pcm) >= n; pcm = pcm[n:] {
		out = append(out, pcm[:n])
	}
	return out
}

func encodeAll(tb testing.TB, r int, cfg EncoderConfig, pcm []int16) [][]byte {
	tb.Helper()
	enc, err := NewEncoder(r, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var pkts [][]byte
	for _, f := range frames(pcm, r) {
		p, err := enc.Encode(nil, f)
		if err != nil {
			tb.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

func newDecoder(tb testing.TB, r int) *Decoder {
	tb.Helper()
	d, err := NewDecoder(r)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// snr is the signal-to-noise ratio of got against want, in dB.
func snr(want, got []int16) float64 {
	var sig, noise float64
	for i := range min(len(want), len(got)) {
		w, g := float64(want[i]), float64(got[i])
		sig += w * w
		noise += (w - g) * (w - g)
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// energy is the mean square of pcm in dBFS.
func energy(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return 10 * math.Log10(e/float64(len(pcm))/(32768*32768)+1e-12)
}

// bestLag finds the delay of out behind in (the codec's look-ahead) and
// the SNR there.
func bestLag(in, out []int16, maxLag int) (int, float64) {
	lag, best := 0, math.Inf(-1)
	for l := 0; l < maxLag; l++ {
		if s := snr(in[:len(in)-l], out[l:]); s > best {
			lag, best = l, s
		}
	}
	return lag, best
}

func TestDefaultConfigIsValid(t *testing.T) {
	if _, err := NewCodec(111, rate, DefaultEncoderConfig()); err != nil {
		t.Fatal(err)
	}
	c, err := media.NewCodec("opus", 111)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "opus" || c.PayloadType() != 111 || c.ClockRate() != 48000 || c.SampleRate() != 16000 {
		t.Fatalf("registered codec is %s/%d pt %d at %d Hz", c.Name(), c.ClockRate(), c.PayloadType(), c.SampleRate())
	}
}

func TestEncoderConfigRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*EncoderConfig)
	}{
		{"bitrate too low", func(c *EncoderConfig) { c.Bitrate = 5999 }},
		{"bitrate too high", func(c *EncoderConfig) { c.Bitrate = 510001 }},
		{"complexity", func(c *EncoderConfig) { c.Complexity = 11 }},
		{"negative loss", func(c *EncoderConfig) { c.PacketLossPercent = -1 }},
		{"loss over 100", func(c *EncoderConfig) { c.PacketLossPercent = 101 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultEncoderConfig()
			tc.edit(&cfg)
			if _, err := NewEncoder(rate, cfg); err == nil {
				t.Fatalf("config %+v accepted", cfg)
			}
		})
	}
}

// TestRoundTripKeepsSpeech checks what a browser caller hears from the AI
// and what the recogniser hears from them: speech through our encoder and
// decoder keeps its level and its waveform, once the codec's look-ahead
// is allowed for; at the codec's 16 kHz and with 48 kHz PCM.
func TestRoundTripKeepsSpeech(t *testing.T) {
	for _, r := range []int{rate, 48000} {
		t.Run(fmt.Sprintf("%dHz", r), func(t *testing.T) {
			pcm := speech(t, r)
			out := decodeAll(t, r, encodeAll(t, r, DefaultEncoderConfig(), pcm))
			if len(out) != len(pcm) {
				t.Fatalf("round trip gave %d samples for %d", len(out), len(pcm))
			}
			lag, s := bestLag(pcm, out, r/40) // up to 25 ms
			t.Logf("round trip: SNR %.1f dB at a delay of %d samples; level %.1f dBFS in, %.1f out", s, lag, energy(pcm), energy(out))
			if s < 8 {
				t.Errorf("round-trip SNR %.1f dB, want > 8 dB", s)
			}
			if d := math.Abs(energy(pcm) - energy(out)); d > 1 {
				t.Errorf("level changed by %.1f dB, want within 1 dB", d)
			}
		})
	}
}

// TestRoundTripKeepsTone: a 1 kHz tone, the simplest signal a codec can
// get wrong by its level or its pitch.
func TestRoundTripKeepsTone(t *testing.T) {
	pcm := make([]int16, 50*frame)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/rate))
	}
	d := newDecoder(t, rate)
	var out []int16
	for _, p := range encodeAll(t, rate, DefaultEncoderConfig(), pcm) {
		var err error
		if out, err = d.Decode(out, p); err != nil {
			t.Fatal(err)
		}
	}
	// Past the first 200 ms, where the encoder settles.
	skip := 10 * frame
	lag, s := bestLag(pcm[skip:], out[skip:], rate/40)
	t.Logf("tone: SNR %.1f dB at a delay of %d samples", s, lag)
	if s < 15 {
		t.Errorf("tone SNR %.1f dB, want > 15 dB", s)
	}
}

func TestEncodeFrameSizes(t *testing.T) {
	enc, err := NewEncoder(rate, DefaultEncoderConfig())
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(t, rate)
	u := unit(rate) // 2.5 ms
	for _, tc := range []struct {
		samples int
		ok      bool
	}{
		{u, true}, {2 * u, true}, {4 * u, true}, {8 * u, true}, {16 * u, true}, {24 * u, true},
		{32 * u, true}, {40 * u, true}, {48 * u, true},
		{0, false}, {1, false}, {frame - 1, false}, {frame + 1, false}, {12 * u, false}, // 30 ms
		{49 * u, false}, {96 * u, false},
	} {
		pkt, err := enc.Encode([]byte{0xaa}, make([]int16, tc.samples))
		if !tc.ok {
			if !errors.Is(err, ErrFrameSize) || !bytes.Equal(pkt, []byte{0xaa}) {
				t.Errorf("%d samples: got %d bytes, err %v; want dst unchanged and ErrFrameSize", tc.samples, len(pkt), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%d samples: %v", tc.samples, err)
			continue
		}
		out, err := d.Decode(nil, pkt[1:])
		if err != nil || len(out) != tc.samples {
			t.Errorf("%d samples encoded, %d decoded (err %v)", tc.samples, len(out), err)
		}
	}
}

// TestDecodeRejectsMalformed: what arrives from the network is bounded
// and checked; a bad packet is an error that names it and leaves the
// output as it was.
func TestDecodeRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		packet []byte
		want   error
	}{
		{"empty", nil, ErrEmptyPacket},
		{"over the MTU", make([]byte, MaxPacket+1), ErrPacketTooLarge},
		{"code 3 with no frames", []byte{0x03, 0x00}, ErrInvalidPacket},
		{"code 3 over 120 ms", []byte{0x1b, 0x3f}, ErrInvalidPacket},                 // 63 × 60 ms
		{"code 1 with odd length", []byte{0x01, 0x00, 0x00, 0x00}, ErrInvalidPacket}, // two equal frames of 1.5 bytes
		{"code 2 length past end", []byte{0x02, 0xfb, 0x00}, ErrInvalidPacket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []int16{7}
			got, err := newDecoder(t, rate).Decode(dst, tc.packet)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if len(got) != 1 || got[0] != 7 {
				t.Fatalf("dst changed to %d samples", len(got))
			}
		})
	}
}

// TestConcealGivesFrame: a lost packet after speech becomes a frame of
// the asked length that carries the voice on (not silence) and fades.
func TestConcealGivesFrame(t *testing.T) {
	pcm := speech(t, rate)
	pkts := encodeAll(t, rate, DefaultEncoderConfig(), pcm)
	d := newDecoder(t, rate)
	loud := loudestFrame(pcm)
	var last []int16
	for _, p := range pkts[:loud+1] {
		var err error
		if last, err = d.Decode(last[:0], p); err != nil {
			t.Fatal(err)
		}
	}
	first, err := d.Conceal([]int16{1, 2}, frame)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2+frame || first[0] != 1 || first[1] != 2 {
		t.Fatalf("conceal gave %d samples after the 2 given, want 2+%d", len(first), frame)
	}
	var later []int16
	for range 5 {
		if later, err = d.Conceal(later[:0], frame); err != nil {
			t.Fatal(err)
		}
	}
	e0, e1, e6 := energy(last), energy(first[2:]), energy(later)
	t.Logf("last frame %.1f dBFS, first concealed %.1f, sixth %.1f", e0, e1, e6)
	if e1 < e0-20 {
		t.Errorf("first concealed frame %.1f dBFS is near silence after %.1f", e1, e0)
	}
	if e6 >= e1 {
		t.Errorf("concealment does not fade: %.1f dBFS then %.1f", e1, e6)
	}
	for _, n := range []int{0, -960, 100, (maxUnits + 1) * unit(rate)} {
		if _, err := d.Conceal(nil, n); !errors.Is(err, ErrFrameSize) {
			t.Errorf("conceal %d samples: err %v, want ErrFrameSize", n, err)
		}
	}
}

// TestFECRecoversBetterThanPLC drops, one at a time, each packet of the
// spoken part and recovers it twice: from the next packet's in-band FEC
// and by concealment alone. The recovered frame is compared with what the
// decoder gives when nothing is lost; FEC must be clearly closer, which
// is the reason the encoder spends bits on it.
func TestFECRecoversBetterThanPLC(t *testing.T) {
	pcm := speech(t, rate)
	pkts := encodeAll(t, rate, DefaultEncoderConfig(), pcm)
	clean := decodeAll(t, rate, pkts)

	var fecSNR, plcSNR []float64
	for lost := 1; lost < len(pkts)-1; lost++ {
		ref := clean[lost*frame : (lost+1)*frame]
		if energy(ref) < -40 { // silence: nothing to recover
			continue
		}
		fec, plc := newDecoder(t, rate), newDecoder(t, rate)
		for _, p := range pkts[:lost] {
			mustDecode(t, fec, p)
			mustDecode(t, plc, p)
		}
		f, err := fec.DecodeFEC(nil, pkts[lost+1], frame)
		if err != nil {
			t.Fatal(err)
		}
		c, err := plc.Conceal(nil, frame)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) != frame {
			t.Fatalf("FEC gave %d samples, want %d", len(f), frame)
		}
		fecSNR = append(fecSNR, snr(ref, f))
		plcSNR = append(plcSNR, snr(ref, c))
	}
	if len(fecSNR) < 20 {
		t.Fatalf("only %d spoken frames to drop", len(fecSNR))
	}
	mf, mp := mean(fecSNR), mean(plcSNR)
	better := 0
	for i := range fecSNR {
		if fecSNR[i] > plcSNR[i] {
			better++
		}
	}
	t.Logf("%d spoken frames dropped one at a time: FEC %.1f dB, PLC %.1f dB mean SNR against the clean decode; FEC better in %d",
		len(fecSNR), mf, mp, better)
	if mf < mp+6 {
		t.Errorf("FEC %.1f dB is not clearly better than PLC %.1f dB", mf, mp)
	}
	if better < len(fecSNR)*3/4 {
		t.Errorf("FEC better than PLC in only %d of %d frames", better, len(fecSNR))
	}
}

// TestFECFallsBackToPLCWithoutIt: from a stream encoded without FEC,
// DecodeFEC still gives a whole frame (libopus conceals), so a caller
// need not know what the peer sends.
func TestFECFallsBackToPLCWithoutIt(t *testing.T) {
	cfg := DefaultEncoderConfig()
	cfg.FEC = false
	pkts := encodeAll(t, rate, cfg, speech(t, rate))
	d := newDecoder(t, rate)
	mustDecode(t, d, pkts[0])
	out, err := d.DecodeFEC(nil, pkts[2], frame)
	if err != nil || len(out) != frame {
		t.Fatalf("DecodeFEC without FEC: %d samples, err %v", len(out), err)
	}
}

func decodeAll(tb testing.TB, r int, pkts [][]byte) []int16 {
	d := newDecoder(tb, r)
	var out []int16
	for _, p := range pkts {
		var err error
		if out, err = d.Decode(out, p); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func mustDecode(tb testing.TB, d *Decoder, p []byte) {
	tb.Helper()
	if _, err := d.Decode(nil, p); err != nil {
		tb.Fatal(err)
	}
}

func loudestFrame(pcm []int16) int {
	best, at := math.Inf(-1), 0
	for i, f := range frames(pcm, rate) {
		if e := energy(f); e > best {
			best, at = e, i
		}
	}
	return at
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
