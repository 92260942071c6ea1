package opus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"testing"

	"switchboard/media"
)

// speech is flite saying "Hello, good morning. I have a question."
// (testdata/audio, made by scripts/make-audio.sh), taken from 16 kHz to
// 48 kHz as a browser's microphone would deliver it, and cut to whole
// 20 ms frames.
func speech(tb testing.TB) []int16 {
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
	up := media.Resample(nil, pcm, 16000, SampleRate)
	return up[:len(up)/FrameSamples*FrameSamples]
}

// frames splits pcm into 20 ms frames.
func frames(pcm []int16) [][]int16 {
	var out [][]int16
	for len(pcm) >= FrameSamples {
		out = append(out, pcm[:FrameSamples])
		pcm = pcm[FrameSamples:]
	}
	return out
}

func encodeAll(tb testing.TB, cfg EncoderConfig, pcm []int16) [][]byte {
	tb.Helper()
	enc, err := NewEncoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var pkts [][]byte
	for _, f := range frames(pcm) {
		p, err := enc.Encode(nil, f)
		if err != nil {
			tb.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

func newDecoder(tb testing.TB) *Decoder {
	tb.Helper()
	d, err := NewDecoder()
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
	if _, err := NewCodec(111, DefaultEncoderConfig()); err != nil {
		t.Fatal(err)
	}
	c, err := media.NewCodec("opus", 111)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "opus" || c.PayloadType() != 111 || c.ClockRate() != 48000 || c.SampleRate() != 48000 {
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
			if _, err := NewEncoder(cfg); err == nil {
				t.Fatalf("config %+v accepted", cfg)
			}
		})
	}
}

// TestRoundTripKeepsSpeech checks what a browser caller hears from the AI
// and what the recogniser hears from them: speech through our encoder and
// decoder keeps its level and its waveform, once the codec's look-ahead
// is allowed for.
func TestRoundTripKeepsSpeech(t *testing.T) {
	pcm := speech(t)
	d := newDecoder(t)
	var out []int16
	for i, p := range encodeAll(t, DefaultEncoderConfig(), pcm) {
		var err error
		if out, err = d.Decode(out, p); err != nil {
			t.Fatalf("pkt %d len %d %x: %v (out len %d cap %d)", i, len(p), p[:min(8, len(p))], err, len(out), cap(out))
		}
	}
	if len(out) != len(pcm) {
		t.Fatalf("round trip gave %d samples for %d", len(out), len(pcm))
	}
	lag, s := bestLag(pcm, out, 400)
	t.Logf("round trip: SNR %.1f dB at a delay of %d samples; level %.1f dBFS in, %.1f out", s, lag, energy(pcm), energy(out))
	if s < 8 {
		t.Errorf("round-trip SNR %.1f dB, want > 8 dB", s)
	}
	if d := math.Abs(energy(pcm) - energy(out)); d > 1 {
		t.Errorf("level changed by %.1f dB, want within 1 dB", d)
	}
}

// TestRoundTripKeepsTone: a 1 kHz tone, the simplest signal a codec can
// get wrong by its level or its pitch.
func TestRoundTripKeepsTone(t *testing.T) {
	pcm := make([]int16, 50*FrameSamples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/SampleRate))
	}
	d := newDecoder(t)
	var out []int16
	for _, p := range encodeAll(t, DefaultEncoderConfig(), pcm) {
		var err error
		if out, err = d.Decode(out, p); err != nil {
			t.Fatal(err)
		}
	}
	// Past the first 200 ms, where the encoder settles.
	skip := 10 * FrameSamples
	lag, s := bestLag(pcm[skip:], out[skip:], 400)
	t.Logf("tone: SNR %.1f dB at a delay of %d samples", s, lag)
	if s < 15 {
		t.Errorf("tone SNR %.1f dB, want > 15 dB", s)
	}
}

func TestEncodeFrameSizes(t *testing.T) {
	enc, err := NewEncoder(DefaultEncoderConfig())
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(t)
	for _, tc := range []struct {
		samples int
		ok      bool
	}{
		{120, true}, {240, true}, {480, true}, {960, true}, {1920, true}, {2880, true},
		{3840, true}, {4800, true}, {5760, true},
		{0, false}, {1, false}, {959, false}, {961, false}, {1440, false}, {5880, false}, {11520, false},
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
			got, err := newDecoder(t).Decode(dst, tc.packet)
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
	pcm := speech(t)
	pkts := encodeAll(t, DefaultEncoderConfig(), pcm)
	d := newDecoder(t)
	loud := loudestFrame(pcm)
	var last []int16
	for _, p := range pkts[:loud+1] {
		var err error
		if last, err = d.Decode(last[:0], p); err != nil {
			t.Fatal(err)
		}
	}
	first, err := d.Conceal([]int16{1, 2}, FrameSamples)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2+FrameSamples || first[0] != 1 || first[1] != 2 {
		t.Fatalf("conceal gave %d samples after the 2 given, want 2+%d", len(first), FrameSamples)
	}
	var later []int16
	for range 5 {
		if later, err = d.Conceal(later[:0], FrameSamples); err != nil {
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
	for _, n := range []int{0, -960, 100, maxFrameSamples + minFrameSamples} {
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
	pcm := speech(t)
	pkts := encodeAll(t, DefaultEncoderConfig(), pcm)
	clean := decodeAll(t, pkts)

	var fecSNR, plcSNR []float64
	for lost := 1; lost < len(pkts)-1; lost++ {
		ref := clean[lost*FrameSamples : (lost+1)*FrameSamples]
		if energy(ref) < -40 { // silence: nothing to recover
			continue
		}
		fec, plc := newDecoder(t), newDecoder(t)
		for _, p := range pkts[:lost] {
			mustDecode(t, fec, p)
			mustDecode(t, plc, p)
		}
		f, err := fec.DecodeFEC(nil, pkts[lost+1], FrameSamples)
		if err != nil {
			t.Fatal(err)
		}
		c, err := plc.Conceal(nil, FrameSamples)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) != FrameSamples {
			t.Fatalf("FEC gave %d samples, want %d", len(f), FrameSamples)
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
	pkts := encodeAll(t, cfg, speech(t))
	d := newDecoder(t)
	mustDecode(t, d, pkts[0])
	out, err := d.DecodeFEC(nil, pkts[2], FrameSamples)
	if err != nil || len(out) != FrameSamples {
		t.Fatalf("DecodeFEC without FEC: %d samples, err %v", len(out), err)
	}
}

func decodeAll(tb testing.TB, pkts [][]byte) []int16 {
	d := newDecoder(tb)
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
	for i, f := range frames(pcm) {
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
