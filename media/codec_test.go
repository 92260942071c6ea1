package media

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// concealCodec is a stateless test codec with its own concealment: a
// frame's samples are its payload's bytes, and a concealed frame is n
// samples of -1, or the next payload's first byte negated (standing for
// in-band FEC). It records what it was asked.
type concealCodec struct {
	calls *[]string
}

func (c concealCodec) Name() string       { return "X-CONCEAL" }
func (c concealCodec) PayloadType() uint8 { return 96 }
func (c concealCodec) ClockRate() uint32  { return 8000 }
func (c concealCodec) SampleRate() int    { return 8000 }
func (c concealCodec) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, byte(s))
	}
	return dst
}

func (c concealCodec) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		dst = append(dst, int16(b))
	}
	return dst
}

func (c concealCodec) Conceal(dst []int16, n int, next []byte) []int16 {
	v := int16(-1)
	if next != nil {
		v = -int16(next[0])
		*c.calls = append(*c.calls, "fec")
	} else {
		*c.calls = append(*c.calls, "plc")
	}
	for range n {
		dst = append(dst, v)
	}
	return dst
}

// TestLostPacketUsesCodecConcealment: the receiver asks a codec that can
// conceal for the lost frame, handing it the packet after the loss when
// that is already held (FEC), and nothing when that one is lost too.
func TestLostPacketUsesCodecConcealment(t *testing.T) {
	var calls []string
	s := memSession(t, newMemNet(), sessAddr)
	s.mu.Lock()
	s.setConfigLocked(SessionConfig{Codec: concealCodec{&calls}, Ptime: 20 * time.Millisecond})
	s.mu.Unlock()
	r := &receiver{s: s, out: newAudioOut(s.audio, &s.ctr.audioDropped)}
	src := netip.MustParseAddrPort("192.0.2.1:4000")
	frame := func(v byte) []byte { return slices.Repeat([]byte{v}, 160) }
	// 3 is lost; 4, 5 and 6 arrive, which declares it lost with 4 held.
	for _, seq := range []uint16{1, 2, 4, 5, 6} {
		r.packet(rtpPacket(t, 96, seq, uint32(seq)*160, 7, frame(byte(seq))), src)
	}
	// 7 and 8 are lost, then the stream pauses and is drained: 7 has no
	// packet after it, 8 has 9.
	r.packet(rtpPacket(t, 96, 9, 9*160, 7, frame(9)), src)
	r.drain()

	var got []int16
	for len(s.audio) > 0 {
		f := (<-s.audio).PCM
		if len(f) != 160 {
			t.Fatalf("frame of %d samples, want 160", len(f))
		}
		got = append(got, f[0])
	}
	want := []int16{1, 2, -4, 4, 5, 6, -1, -9, 9} // 3 from 4's FEC, 7 concealed, 8 from 9's FEC
	if !slices.Equal(got, want) {
		t.Fatalf("frames start %v, want %v (calls %v)", got, want, calls)
	}
	if c := strings.Join(calls, ","); c != "fec,plc,fec" {
		t.Fatalf("conceal calls %s, want fec,plc,fec", c)
	}
}

func TestNewCodecRTPMap(t *testing.T) {
	for _, tc := range []struct {
		rtpmap   string
		pt       uint8
		name     string
		clock    uint32
		channels int
		ok       bool
	}{
		{"0 PCMU/8000", 0, "PCMU", 8000, 0, true},
		{"8 pcma/8000/1", 8, "pcma", 8000, 1, true},
		{"0 PCMU/16000", 0, "PCMU", 16000, 0, false},
		{"8 PCMA/8000/2", 8, "PCMA", 8000, 2, false},
		{"98 L16/8000", 98, "L16", 8000, 0, false},
	} {
		t.Run(tc.rtpmap, func(t *testing.T) {
			c, err := NewCodecRTPMap(tc.pt, tc.name, tc.clock, tc.channels)
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted as %s/%d", c.Name(), c.ClockRate())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(c.Name(), tc.name) || c.PayloadType() != tc.pt {
				t.Fatalf("got %s pt %d", c.Name(), c.PayloadType())
			}
		})
	}
}
