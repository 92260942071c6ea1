package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func rtpPacket(tb testing.TB, pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	tb.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc},
		Payload: payload}).Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzRTPPacket feeds datagrams to the receive path (validation, latch,
// jitter buffer, decoder, DTMF detector) without a socket. Input: a list
// of datagrams, each prefixed with its 2-byte length; the top bit of the
// length says it came from a second source.
func FuzzRTPPacket(f *testing.F) {
	frame := func(src2 bool, b []byte) []byte {
		n := uint16(len(b))
		if src2 {
			n |= 0x8000
		}
		return append(binary.BigEndian.AppendUint16(nil, n), b...)
	}
	ev := Event{Code: 5, End: true, Duration: 800}.Marshal()
	f.Add(frame(false, rtpPacket(f, 0, 1, 160, 7, make([]byte, 160))))
	f.Add(append(frame(false, rtpPacket(f, 0, 1, 160, 7, make([]byte, 160))),
		frame(true, rtpPacket(f, 101, 2, 160, 7, ev))...))
	f.Add(frame(false, []byte{0x80, 0x00, 0x00}))                                              // truncated header
	f.Add(frame(false, []byte{0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0xff}))                   // padding larger than packet
	f.Add(frame(false, []byte{0x9f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7}))                         // 15 CSRCs, missing
	f.Add(frame(false, []byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0xbe, 0xde, 0xff, 0xff})) // extension overrun
	f.Add(frame(false, append([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7}, make([]byte, 1500)...)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := memSession(t, newMemNet(), sessAddr)
		s.mu.Lock()
		s.setConfigLocked(SessionConfig{Codec: sessPCMU(t), DTMF: 101, Ptime: 20 * time.Millisecond})
		s.mu.Unlock()
		r := &receiver{s: s, out: newAudioOut(s.audio, &s.ctr.audioDropped)}
		a := netip.MustParseAddrPort("192.0.2.1:4000")
		b := netip.MustParseAddrPort("192.0.2.2:4000")
		for len(data) >= 2 {
			n := binary.BigEndian.Uint16(data)
			data = data[2:]
			l := min(int(n&0x7fff), len(data))
			src := a
			if n&0x8000 != 0 {
				src = b
			}
			r.packet(data[:l], src)
			data = data[l:]
			if r.jb.pending() > jitterSlots || len(s.audio) > audioQueue {
				t.Fatalf("unbounded: %d held, %d frames queued", r.jb.pending(), len(s.audio))
			}
		}
		r.drain()
		for len(s.audio) > 0 {
			if f := <-s.audio; len(f.PCM) > maxPacket {
				t.Fatalf("frame of %d samples", len(f.PCM))
			}
		}
	})
}
