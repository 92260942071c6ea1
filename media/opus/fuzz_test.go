package opus

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzDecode from the encoder")

// fuzzSeed is one input of FuzzDecode: a packet, the packet after a loss
// of gap samples, and the gap.
type fuzzSeed struct {
	name         string
	packet, next []byte
	gap          uint16
}

// fuzzSeeds are real packets of each kind the encoder makes from speech,
// and the malformed ones of TestDecodeRejectsMalformed.
func fuzzSeeds(tb testing.TB) []fuzzSeed {
	pcm := speech(tb, rate)
	var seeds []fuzzSeed
	for _, c := range []struct {
		name string
		cfg  EncoderConfig
	}{
		{"default", DefaultEncoderConfig()},
		{"celt_fullband", EncoderConfig{Bitrate: 128000, Complexity: -1}},
		{"silk_narrowband_dtx", EncoderConfig{Bitrate: 8000, Complexity: 0, DTX: true}},
	} {
		pkts := encodeAll(tb, rate, c.cfg, pcm)
		seeds = append(seeds,
			fuzzSeed{c.name + "_first", pkts[0], pkts[1], frame},
			fuzzSeed{c.name + "_speech", pkts[40], pkts[41], frame})
	}
	return append(seeds,
		fuzzSeed{"code3_no_frames_then_over_120ms", []byte{0x03, 0x00}, []byte{0x1b, 0x3f}, 120},
		fuzzSeed{"code1_odd_then_code2_past_end", []byte{0x01, 0x00, 0x00, 0x00}, []byte{0x02, 0xfb, 0x00}, 5760},
		fuzzSeed{"empty_then_over_mtu", nil, make([]byte, MaxPacket+1), 0})
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzDecode whole: each seed has its
// file. go test -run TestFuzzSeeds -update writes them anew.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for _, s := range fuzzSeeds(t) {
		path := filepath.Join(dir, s.name)
		if *update {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\nuint16(%d)\n", s.packet, s.next, s.gap)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("seed %s missing (go test -run TestFuzzSeeds -update): %v", s.name, err)
		}
	}
}

// FuzzDecode feeds the decoder what the network may send: a packet, the
// packet after a loss of gap samples, and the gap. Whatever they are, a
// call either errors and leaves its output as it was, or gives a frame
// of a length Opus can have; nothing panics and nothing grows unbounded.
// Seeds live in testdata/fuzz/FuzzDecode (TestFuzzSeeds).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, packet, next []byte, gap uint16) {
		d := newDecoder(t, rate)
		dst := []int16{7}
		check := func(op string, out []int16, err error, want int) {
			t.Helper()
			if err != nil {
				if len(out) != 1 || out[0] != 7 {
					t.Fatalf("%s failed (%v) and changed its output to %d samples", op, err, len(out))
				}
				return
			}
			n := len(out) - 1
			if n <= 0 || n > maxUnits*unit(rate) || n%unit(rate) != 0 || (want > 0 && n != want) {
				t.Fatalf("%s gave %d samples (want %d)", op, n, want)
			}
		}
		out, err := d.Decode(dst, packet)
		check("decode", out, err, 0)
		out, err = d.DecodeFEC(dst, next, int(gap))
		check("decode fec", out, err, int(gap))
		out, err = d.Conceal(dst, int(gap))
		check("conceal", out, err, int(gap))
		if err != nil && !errors.Is(err, ErrFrameSize) {
			t.Fatalf("conceal: %v", err)
		}
		out, err = d.Decode(dst, next)
		check("decode next", out, err, 0)

		// media.Codec has no errors: whatever comes, a frame comes out.
		c, err := NewCodec(111, rate, DefaultEncoderConfig())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(c.Decode(nil, packet)); n <= 0 || n > maxUnits*unit(rate) {
			t.Fatalf("codec decode gave %d samples", n)
		}
		if n := len(c.Conceal(nil, frame, next)); n != frame {
			t.Fatalf("codec conceal gave %d samples, want %d", n, frame)
		}
	})
}
