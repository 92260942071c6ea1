package opus

import (
	"errors"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/pion/sdp/v3"

	"switchboard/media"
	_ "switchboard/media/g722" // a browser offers G.722 too
)

// TestChromiumOfferMapsToCodecs reads the audio offer of a real browser:
// testdata/chromium-offer.sdp is Chromium 156's createOffer() for one
// audio transceiver, printed by `chromium --headless --dump-dom` from a
// page that calls it. pion/sdp parses the rtpmaps; each that we can play
// becomes a codec, with opus/48000/2 as mono Opus, and the rest are
// refused.
func TestChromiumOfferMapsToCodecs(t *testing.T) {
	raw, err := os.ReadFile("testdata/chromium-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	want := map[uint8]struct {
		name string
		rate int
	}{
		111: {"opus", 16000}, // PCM rate; RTP clock 48000
		9:   {"G722", 16000},
		0:   {"PCMU", 8000},
		8:   {"PCMA", 8000},
		// 63 red, 13 CN, 110 and 126 telephone-event: not codecs to play.
	}
	var offered []uint8
	for _, f := range sd.MediaDescriptions[0].MediaName.Formats {
		pt, _ := strconv.Atoi(f)
		offered = append(offered, uint8(pt))
		rc, err := sd.GetCodecForPayloadType(uint8(pt))
		if err != nil {
			t.Fatalf("pt %d: %v", pt, err)
		}
		channels, _ := strconv.Atoi(rc.EncodingParameters)
		c, err := media.NewCodecRTPMap(rc.PayloadType, rc.Name, rc.ClockRate, channels)
		w, ok := want[uint8(pt)]
		if !ok {
			if err == nil {
				t.Errorf("%s/%d accepted as %s", rc.Name, rc.ClockRate, c.Name())
			}
			continue
		}
		if err != nil {
			t.Errorf("%d %s/%d/%s: %v", pt, rc.Name, rc.ClockRate, rc.EncodingParameters, err)
			continue
		}
		if c.Name() != w.name || c.SampleRate() != w.rate || c.PayloadType() != uint8(pt) {
			t.Errorf("pt %d: got %s at %d Hz, want %s at %d Hz", pt, c.Name(), c.SampleRate(), w.name, w.rate)
		}
		if pt == 111 {
			cfg := DefaultEncoderConfig().WithFmtp(rc.Fmtp)
			if rc.Fmtp != "minptime=10;useinbandfec=1" || !cfg.FEC || cfg.DTX {
				t.Errorf("fmtp %q gave FEC %v DTX %v, want FEC on, DTX off", rc.Fmtp, cfg.FEC, cfg.DTX)
			}
		}
	}
	if !slices.Equal(offered, []uint8{111, 63, 9, 0, 8, 13, 110, 126}) {
		t.Fatalf("offer lists %v; the fixture is not the one this test knows", offered)
	}
}

// TestOpusRTPMapChannels: RFC 7587 §7 fixes opus/48000/2; any other
// rtpmap for opus is not the codec a browser means.
func TestOpusRTPMapChannels(t *testing.T) {
	for _, tc := range []struct {
		clock    uint32
		channels int
		ok       bool
	}{
		{48000, 2, true},
		{48000, 1, false},
		{48000, 0, false},
		{16000, 2, false},
	} {
		c, err := media.NewCodecRTPMap(111, "OPUS", tc.clock, tc.channels)
		if (err == nil) != tc.ok {
			t.Errorf("opus/%d/%d: err %v, want ok %v", tc.clock, tc.channels, err, tc.ok)
		}
		if err == nil && c.SampleRate() != rate {
			t.Errorf("opus/%d/%d: %d Hz", tc.clock, tc.channels, c.SampleRate())
		}
	}
}

// TestDecodesStereoAsMono: a browser whose answer said stereo=1 sends
// stereo packets; the decoder gives one channel of 960 samples per 20 ms,
// the mix, at the level of the input.
func TestDecodesStereoAsMono(t *testing.T) {
	enc, err := newEncoder(rate, DefaultEncoderConfig(), 2)
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(t, rate)
	pcm := make([]int16, 2*frame)
	var in, out []int16
	for f := range 25 {
		for i := range frame {
			v := int16(8000 * math.Sin(2*math.Pi*440*float64(f*frame+i)/rate))
			pcm[2*i], pcm[2*i+1] = v, v
			in = append(in, v)
		}
		p, err := enc.Encode(nil, pcm)
		if err != nil {
			t.Fatal(err)
		}
		n := len(out)
		if out, err = d.Decode(out, p); err != nil {
			t.Fatal(err)
		}
		if len(out)-n != frame {
			t.Fatalf("stereo packet decoded to %d samples, want %d", len(out)-n, frame)
		}
	}
	skip := 10 * frame
	if e, g := energy(in[skip:]), energy(out[skip:]); math.Abs(e-g) > 1 {
		t.Fatalf("mono mix at %.1f dBFS for %.1f in", g, e)
	}
}

func TestWithFmtp(t *testing.T) {
	base := DefaultEncoderConfig()
	for _, tc := range []struct {
		fmtp    string
		fec     bool
		dtx     bool
		bitrate int
	}{
		{"", true, false, 32000},
		{"minptime=10;useinbandfec=1", true, false, 32000},
		{"maxplaybackrate=48000;stereo=1;useinbandfec=1", true, false, 32000},
		{"useinbandfec=0", false, false, 32000},
		{" UseDTX = 1 ; maxaveragebitrate=20000", true, true, 20000},
		{"maxaveragebitrate=64000", true, false, 32000},
		{"maxaveragebitrate=10;usedtx=yes;useinbandfec", true, false, 32000},
		{";;=;x=;=1", true, false, 32000},
	} {
		got := base.WithFmtp(tc.fmtp)
		if got.FEC != tc.fec || got.DTX != tc.dtx || got.Bitrate != tc.bitrate {
			t.Errorf("%q: FEC %v DTX %v bitrate %d; want %v %v %d", tc.fmtp, got.FEC, got.DTX, got.Bitrate, tc.fec, tc.dtx, tc.bitrate)
		}
	}
}

// TestCodecKeepsTiming: through media.Codec, which has no errors, a bad
// packet becomes a concealed frame of the stream's length and an odd
// PCM length an empty payload; both are counted.
func TestCodecKeepsTiming(t *testing.T) {
	c, err := NewCodec(111, rate, DefaultEncoderConfig())
	if err != nil {
		t.Fatal(err)
	}
	half := frame / 2 // 10 ms
	pkt := c.Encode(nil, make([]int16, half))
	if out := c.Decode(nil, pkt); len(out) != half {
		t.Fatalf("10 ms packet decoded to %d samples, want %d", len(out), half)
	}
	if out := c.Decode(nil, []byte{0x03, 0x00}); len(out) != half {
		t.Fatalf("bad packet gave %d samples, want the last packet's %d", len(out), half)
	}
	if p := c.Encode([]byte{1}, make([]int16, 3*half)); len(p) != 1 {
		t.Fatalf("30 ms encoded to %d bytes, want none", len(p)-1)
	}
	enc, dec, last := c.Errors()
	if enc != 1 || dec != 1 || !errors.Is(last, ErrFrameSize) {
		t.Fatalf("errors: %d encode, %d decode, last %v", enc, dec, last)
	}
	if out := c.Conceal([]int16{5}, frame, nil); len(out) != frame+1 || out[0] != 5 {
		t.Fatalf("conceal gave %d samples", len(out))
	}
	if out := c.Conceal(nil, frame, pkt); len(out) != frame {
		t.Fatalf("conceal with FEC gave %d samples", len(out))
	}
	if out := c.Conceal(nil, 100, nil); len(out) != 100 {
		t.Fatalf("conceal of 100 samples gave %d (silence expected)", len(out))
	}
}

// TestStateSurvivesGC: the libopus states live in Go memory; with the
// collector running between every frame and memory churning, a stream
// must decode exactly as it does without. (Before the states were held
// as slices, a pointer of cgo's not-in-heap type alone let the collector
// free them mid-stream.)
func TestStateSurvivesGC(t *testing.T) {
	pcm := speech(t, rate)[:50*frame]
	want := decodeAll(t, rate, encodeAll(t, rate, DefaultEncoderConfig(), pcm))

	enc, err := NewEncoder(rate, DefaultEncoderConfig())
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(t, rate)
	var got [][]int16
	for _, f := range frames(pcm, rate) {
		runtime.GC()
		got = append(got, make([]int16, 4096)) // churn that would reuse freed state
		p, err := enc.Encode(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Decode(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		got[len(got)-1] = out
	}
	if all := slices.Concat(got...); !slices.Equal(all, want) {
		t.Fatal("stream decoded differently with the collector running")
	}
}
