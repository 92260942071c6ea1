package media

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
)

const (
	sessAddr = "10.0.0.1:20000"
	peerAddr = "10.0.0.2:30000"
)

func sessPCMU(t *testing.T) Codec {
	t.Helper()
	c, err := NewCodec("PCMU", 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startMem starts a PCMU session at sessAddr talking to a peer conn at
// peerAddr, inside a synctest bubble.
func startMem(t *testing.T, n *memNet, cfg SessionConfig) (*Session, *memConn) {
	t.Helper()
	peer := n.listen(t, peerAddr)
	s := memSession(t, n, sessAddr)
	if cfg.Codec == nil {
		cfg.Codec = sessPCMU(t)
	}
	cfg.Remote = netip.MustParseAddrPort(peerAddr)
	if err := s.Start(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	return s, peer
}

func parseRTP(t *testing.T, ps []memPacket) []rtp.Packet {
	t.Helper()
	out := make([]rtp.Packet, len(ps))
	for i, p := range ps {
		if err := out[i].Unmarshal(p.data); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	return out
}

// tone is a 1 kHz sine at rate, amplitude 8000.
func sessTone(rate int, d time.Duration) []int16 {
	pcm := make([]int16, samples(rate, d))
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/float64(rate)))
	}
	return pcm
}

func TestPacedSenderSendsSilenceEvery20ms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := startMem(t, n, SessionConfig{})
		time.Sleep(990 * time.Millisecond) // ticks at 0, 20, ..., 980 ms
		synctest.Wait()
		pkts := parseRTP(t, peer.packets())
		if len(pkts) != 50 {
			t.Fatalf("%d packets in 990ms, want 50", len(pkts))
		}
		for i, p := range pkts {
			if p.SequenceNumber != pkts[0].SequenceNumber+uint16(i) || p.Timestamp != pkts[0].Timestamp+uint32(160*i) {
				t.Fatalf("packet %d: seq %d ts %d, not in step with the first", i, p.SequenceNumber, p.Timestamp)
			}
			if p.Marker != (i == 0) || p.SSRC != s.ssrc || p.PayloadType != 0 || len(p.Payload) != 160 {
				t.Fatalf("packet %d: %+v", i, p.Header)
			}
			for _, b := range p.Payload {
				if b != 0xff { // mu-law zero
					t.Fatalf("packet %d: payload byte %#x, want silence", i, b)
				}
			}
		}
		if st := s.Stats(); st.PacketsSent != 50 || st.BytesSent != 50*160 {
			t.Fatalf("stats sent %d packets %d bytes, want 50, 8000", st.PacketsSent, st.BytesSent)
		}
	})
}

func TestPlayReturnsOncePlayed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := startMem(t, n, SessionConfig{})
		start := time.Now()
		// 16 kHz input is resampled to the codec's 8 kHz.
		if err := s.Play(t.Context(), sessTone(16000, time.Second), 16000); err != nil {
			t.Fatal(err)
		}
		// 50 packets; the first may go out at 0 or 20 ms.
		if d := time.Since(start); d < 980*time.Millisecond || d > time.Second {
			t.Fatalf("Play returned after %v, want 980ms-1s", d)
		}
		synctest.Wait()
		voiced := 0
		for _, p := range parseRTP(t, peer.packets()) {
			if sessRMS(sessPCMU(t).Decode(nil, p.Payload)) > 3000 {
				voiced++
			}
		}
		if voiced != 50 {
			t.Fatalf("%d packets carry the tone, want 50", voiced)
		}
	})
}

func TestStopPlaybackInterruptsPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := startMem(t, n, SessionConfig{})
		errc := make(chan error, 2)
		go func() { errc <- s.Play(t.Context(), sessTone(8000, 2*time.Second), 8000) }()
		go func() { errc <- s.Play(t.Context(), sessTone(8000, time.Second), 8000) }()
		time.Sleep(300 * time.Millisecond)
		s.StopPlayback()
		for range 2 {
			if err := <-errc; !errors.Is(err, ErrInterrupted) {
				t.Fatalf("Play = %v, want ErrInterrupted", err)
			}
		}
		peer.packets()
		time.Sleep(100 * time.Millisecond)
		for i, p := range parseRTP(t, peer.packets()) {
			if r := sessRMS(sessPCMU(t).Decode(nil, p.Payload)); r != 0 {
				t.Fatalf("packet %d after StopPlayback has rms %v, want silence", i, r)
			}
		}
	})
}

func TestPlayReturnsWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, _ := startMem(t, n, SessionConfig{})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if err := s.Play(ctx, sessTone(8000, time.Second), 8000); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Play = %v, want DeadlineExceeded", err)
		}
		if s.play.next(make([]int16, 160)) {
			t.Fatal("the abandoned audio is still queued")
		}
	})
}

// feed sends count PCMU packets from peer to the session, one every
// 20 ms, skipping the sequence numbers in lost.
func feed(t *testing.T, peer *memConn, ssrc uint32, firstSeq uint16, count int, lost ...uint16) {
	t.Helper()
	dst := netip.MustParseAddrPort(sessAddr)
	for i := range count {
		seq := firstSeq + uint16(i)
		skip := false
		for _, l := range lost {
			skip = skip || l == seq
		}
		if !skip {
			p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(160 * i), SSRC: ssrc},
				Payload: make([]byte, 160)}
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			peer.WriteToUDPAddrPort(b, dst)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMediaTimeoutEndsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := startMem(t, n, SessionConfig{MediaTimeout: 5 * time.Second})
		feed(t, peer, 1, 0, 100) // RTP for 2 s keeps it alive
		time.Sleep(4900 * time.Millisecond)
		synctest.Wait()
		if s.Err() != nil {
			t.Fatalf("ended %v after the last packet: %v", 4900*time.Millisecond, s.Err())
		}
		time.Sleep(200 * time.Millisecond)
		select {
		case <-s.Done():
		default:
			t.Fatal("session still running 5.1s after the last packet")
		}
		if !errors.Is(s.Err(), ErrMediaTimeout) {
			t.Fatalf("Err() = %v, want ErrMediaTimeout", s.Err())
		}
		for range s.Audio() { // closed once the receiver stops
		}
	})
}

func TestHoldSuspendsMediaTimeoutAndSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		peer := n.listen(t, peerAddr)
		s := memSession(t, n, sessAddr)
		s.Hold(true)
		cfg := SessionConfig{Codec: sessPCMU(t), Remote: netip.MustParseAddrPort(peerAddr), MediaTimeout: 2 * time.Second}
		if err := s.Start(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if s.Err() != nil {
			t.Fatalf("on hold, session ended: %v", s.Err())
		}
		if got := len(peer.packets()); got != 0 {
			t.Fatalf("on hold, %d RTP packets sent", got)
		}
		s.Hold(false)
		time.Sleep(1900 * time.Millisecond)
		synctest.Wait()
		if s.Err() != nil {
			t.Fatalf("1.9s after resuming, session ended: %v", s.Err())
		}
		pkts := parseRTP(t, peer.packets())
		if len(pkts) < 90 || !pkts[0].Marker {
			t.Fatalf("after resuming: %d packets, first marker %v; want ~95 and a marker", len(pkts), len(pkts) > 0 && pkts[0].Marker)
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if !errors.Is(s.Err(), ErrMediaTimeout) {
			t.Fatalf("2.1s after resuming without RTP: Err() = %v, want ErrMediaTimeout", s.Err())
		}
	})
}

func TestSendDigitFollowsRFC4733(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := startMem(t, n, SessionConfig{DTMF: 101})
		time.Sleep(50 * time.Millisecond)
		if err := s.SendDigit('7'); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		pkts := parseRTP(t, peer.packets())
		var events []rtp.Packet
		first := -1
		for i, p := range pkts {
			if p.SSRC != s.ssrc || (i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1) {
				t.Fatalf("packet %d: ssrc %x seq %d breaks the stream", i, p.SSRC, p.SequenceNumber)
			}
			if p.PayloadType == 101 {
				if first < 0 {
					first = i
				}
				events = append(events, p)
			}
		}
		if len(events) != 7 { // 100 ms: updates at 20-80 ms, then the end three times
			t.Fatalf("%d telephone-event packets, want 7", len(events))
		}
		var d Detector
		var got []rune
		for i, p := range events {
			if p.Timestamp != events[0].Timestamp || p.Marker != (i == 0) {
				t.Fatalf("event %d: ts %d marker %v; want ts %d, marker only first", i, p.Timestamp, p.Marker, events[0].Timestamp)
			}
			e, err := ParseEvent(p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if wantEnd := i >= 4; e.End != wantEnd || e.Duration != uint16(min(160*(i+1), 800)) {
				t.Fatalf("event %d: %+v", i, e)
			}
			if digit, ok, _ := d.Packet(p.Timestamp, p.Payload); ok {
				got = append(got, digit)
			}
		}
		if string(got) != "7" {
			t.Fatalf("detector read %q, want \"7\"", string(got))
		}
		if next := pkts[first+7]; next.PayloadType != 0 || next.Timestamp != events[0].Timestamp+7*160 {
			t.Fatalf("audio after the digit: pt %d ts %d, want 0, %d", next.PayloadType, next.Timestamp, events[0].Timestamp+7*160)
		}
		if s.Stats().DigitsSent != 1 {
			t.Fatalf("DigitsSent = %d", s.Stats().DigitsSent)
		}
	})
}

func TestSendDigitErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, _ := startMem(t, n, SessionConfig{})
		if err := s.SendDigit('x'); !errors.Is(err, ErrNotDigit) {
			t.Errorf("SendDigit('x') = %v, want ErrNotDigit", err)
		}
		if err := s.SendDigit('1'); !errors.Is(err, ErrNoDTMF) {
			t.Errorf("SendDigit without telephone-event = %v, want ErrNoDTMF", err)
		}
	})
}

func sessRMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}
