package media

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var loopback = netip.MustParseAddr("127.0.0.1")

// testLog logs at debug level through t when -v is given.
func testLog(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// testPorts is a pool of 32 pairs at a random place among the high
// ports; pairs that something else holds are skipped by Open.
func testPorts(t *testing.T) *Ports {
	t.Helper()
	base := 20000 + 2*rand.IntN(20000)
	p, err := NewPorts(loopback, base, base+63)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openSession(t *testing.T, p *Ports) *Session {
	t.Helper()
	s, err := p.Open(testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addrOf(s *Session) netip.AddrPort { return netip.AddrPortFrom(loopback, s.LocalPort()) }

// rawPeer is a plain UDP socket standing in for a remote endpoint.
func rawPeer(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func peerAddrOf(c *net.UDPConn) netip.AddrPort {
	return unmap(c.LocalAddr().(*net.UDPAddr).AddrPort())
}

func send(t *testing.T, c *net.UDPConn, to netip.AddrPort, b []byte) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatal(err)
	}
}

// nextFrame waits for a frame, failing the test after a generous timeout.
func nextFrame(t *testing.T, s *Session) []int16 {
	t.Helper()
	select {
	case f, ok := <-s.Audio():
		if !ok {
			t.Fatalf("audio closed: %v", s.Err())
		}
		return slices.Clone(f.PCM)
	case <-time.After(5 * time.Second):
		t.Fatal("no audio frame within 5s")
	}
	return nil
}

func nextDigit(t *testing.T, s *Session) rune {
	t.Helper()
	select {
	case d := <-s.DTMF():
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no digit within 5s")
	}
	return 0
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTwoSessionsTalkPCMU(t *testing.T) {
	p := testPorts(t)
	a, b := openSession(t, p), openSession(t, p)
	codec := sessPCMU(t)
	for _, s := range []struct{ s, peer *Session }{{a, b}, {b, a}} {
		cfg := SessionConfig{Codec: codec, DTMF: 101, Remote: addrOf(s.peer)}
		if err := s.s.Start(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	pcm := sessTone(8000, 400*time.Millisecond)
	errc := make(chan error, 1)
	go func() { errc <- a.Play(t.Context(), pcm, 8000) }()

	// What b hears is the tone through mu-law, sample for sample, in order,
	// after whatever silence came first.
	want := codec.Decode(nil, codec.Encode(nil, pcm))
	var got []int16
	for len(got) < len(want) {
		f := nextFrame(t, b)
		if len(got) == 0 && sessRMS(f) == 0 {
			continue
		}
		got = append(got, f...)
	}
	if !slices.Equal(got[:len(want)], want) {
		t.Fatal("b did not receive the tone a played, in order")
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := a.SendDigit('5'); err != nil {
		t.Fatal(err)
	}
	if d := nextDigit(t, b); d != '5' {
		t.Fatalf("b got digit %q, want '5'", d)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.PacketsSent < 20 || sa.BytesSent < 20*160 || sb.PacketsReceived < 20 {
		t.Fatalf("a sent %d packets (%d bytes), b received %d; want at least 20", sa.PacketsSent, sa.BytesSent, sb.PacketsReceived)
	}
	if sb.Lost != 0 || sb.Duplicates != 0 || sb.Malformed != 0 || sb.Foreign != 0 || sb.DigitsReceived != 1 {
		t.Fatalf("b stats %+v", sb)
	}
}

func TestLatchesToTheSourceThatSends(t *testing.T) {
	p := testPorts(t)
	s := openSession(t, p)
	sdp := rawPeer(t) // what SDP said; nothing is sent from there
	nat := rawPeer(t) // where the caller's packets really come from
	intruder := rawPeer(t)
	cfg := SessionConfig{Codec: sessPCMU(t), Remote: peerAddrOf(sdp)}
	if err := s.Start(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	to := addrOf(s)
	// A packet of a payload type that was not negotiated does not latch.
	send(t, intruder, to, rtpPacket(t, 8, 1, 0, 9, make([]byte, 160)))
	waitFor(t, "the wrong payload type to be counted", func() bool { return s.Stats().UnexpectedPayload == 1 })
	if s.RemoteAddr() != peerAddrOf(sdp) {
		t.Fatalf("latched to %v on a bad packet", s.RemoteAddr())
	}

	quiet := bytes.Repeat([]byte{0xff}, 160) // mu-law zero
	send(t, nat, to, rtpPacket(t, 0, 100, 0, 7, quiet))
	waitFor(t, "the latch", func() bool { return s.RemoteAddr() == peerAddrOf(nat) })
	buf := make([]byte, 1500)
	nat.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := nat.ReadFromUDPAddrPort(buf); err != nil {
		t.Fatalf("no RTP back at the latched source: %v", err)
	}

	loud := make([]byte, 160) // 0x00 is the loudest negative mu-law value
	send(t, intruder, to, rtpPacket(t, 0, 101, 160, 9, loud))
	waitFor(t, "the foreign packet to be counted", func() bool { return s.Stats().Foreign == 1 })
	if f := nextFrame(t, s); sessRMS(f) != 0 {
		t.Fatalf("first frame rms %v, want the nat source's silence", sessRMS(f))
	}
	select {
	case f := <-s.Audio():
		t.Fatalf("audio from the intruder was delivered (rms %v)", sessRMS(f.PCM))
	default:
	}
}

// level is the payload of a frame whose samples all decode to a level
// that tells frame i apart.
func level(i int) (payload []byte, sample int16) {
	c, _ := NewCodec("PCMU", 0)
	pcm := make([]int16, 160)
	for k := range pcm {
		pcm[k] = int16(1000 * (i + 1))
	}
	payload = c.Encode(nil, pcm)
	return payload, c.Decode(nil, payload[:1])[0]
}

func TestJitterBufferOverUDP(t *testing.T) {
	p := testPorts(t)
	s := openSession(t, p)
	peer := rawPeer(t)
	if err := s.Start(t.Context(), SessionConfig{Codec: sessPCMU(t), Remote: peerAddrOf(peer)}); err != nil {
		t.Fatal(err)
	}
	// 4 is lost (and comes late at the end), 3 is duplicated, 2 and 1 swap.
	order := []int{0, 2, 1, 3, 3, 5, 6, 7, 8, 9, 4}
	for _, i := range order {
		payload, _ := level(i)
		send(t, peer, addrOf(s), rtpPacket(t, 0, uint16(60000+i), uint32(160*i), 42, payload))
	}
	var got []int16
	for range 10 {
		got = append(got, nextFrame(t, s)[0])
	}
	var want []int16
	for i := range 10 {
		_, v := level(i)
		if i == 4 {
			v = 0 // concealed
		}
		want = append(want, v)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("frames (first samples) %v, want %v", got, want)
	}
	waitFor(t, "the late packet", func() bool { return s.Stats().Late == 1 })
	st := s.Stats()
	if st.Duplicates != 1 || st.Concealed != 1 || st.PacketsReceived != 11 || st.Lost != 0 {
		// Lost is RFC 3550's: the duplicate makes up for the late packet.
		t.Fatalf("stats %+v", st)
	}
}

func TestMalformedPacketsAreDroppedAndCounted(t *testing.T) {
	p := testPorts(t)
	s := openSession(t, p)
	peer := rawPeer(t)
	if err := s.Start(t.Context(), SessionConfig{Codec: sessPCMU(t), Remote: peerAddrOf(peer)}); err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{
		{0x80, 0}, // truncated
		rtpPacket(t, 0, 1, 0, 1, make([]byte, 1500)),               // oversized
		append([]byte{0x40}, rtpPacket(t, 0, 1, 0, 1, nil)[1:]...), // version 1
	}
	for _, b := range bad {
		send(t, peer, addrOf(s), b)
	}
	waitFor(t, "3 malformed packets", func() bool { return s.Stats().Malformed == 3 })
	if st := s.Stats(); st.PacketsReceived != 0 || s.RemoteAddr() != peerAddrOf(peer) {
		t.Fatalf("malformed packets were taken: %+v", st)
	}
}

func TestDTMFFromSIPpCapture(t *testing.T) {
	packets := readRTPCapture(t, sippCapture(t))
	p := testPorts(t)
	s := openSession(t, p)
	peer := rawPeer(t)
	if err := s.Start(t.Context(), SessionConfig{Codec: sessPCMU(t), DTMF: 101, Remote: peerAddrOf(peer)}); err != nil {
		t.Fatal(err)
	}
	for i, pk := range packets {
		send(t, peer, addrOf(s), rtpPacket(t, 101, uint16(i), pk.ts, 1234, pk.payload))
	}
	if d := nextDigit(t, s); d != '0' {
		t.Fatalf("digit %q, want '0'", d)
	}
	select {
	case d := <-s.DTMF():
		t.Fatalf("second digit %q from one press", d)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestCloseStopsEverythingAndIsIdempotent(t *testing.T) {
	p := testPorts(t)
	s := openSession(t, p)
	if err := s.Start(t.Context(), SessionConfig{Codec: sessPCMU(t)}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Play(context.Background(), sessTone(8000, time.Minute), 8000) }()
	waitFor(t, "playback to start", func() bool {
		s.play.mu.Lock()
		defer s.play.mu.Unlock()
		return len(s.play.queue) > 0
	})
	s.Close()
	s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Play after Close = %v, want ErrClosed", err)
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("Err() = %v", s.Err())
	}
	if err := s.Start(t.Context(), SessionConfig{Codec: sessPCMU(t)}); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

func TestStartContextEndsSession(t *testing.T) {
	p := testPorts(t)
	s := openSession(t, p)
	ctx, cancel := context.WithCancelCause(t.Context())
	if err := s.Start(ctx, SessionConfig{Codec: sessPCMU(t)}); err != nil {
		t.Fatal(err)
	}
	hangup := errors.New("caller hung up")
	cancel(hangup)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end with its context")
	}
	if !errors.Is(s.Err(), hangup) {
		t.Fatalf("Err() = %v, want the context's cause", s.Err())
	}
}

// Audio played while the sender is idle goes out at once, not at the next
// packet time: the first packet of a reply is what a caller waits for.
// The sender here ticks once an hour, so only that start can bring the
// tone within the test (after the first tick, which comes at Start).
func TestPlayAfterSilenceStartsAtOnce(t *testing.T) {
	p := testPorts(t)
	s := openSession(t, p)
	s.pace = time.Hour
	peer := rawPeer(t)
	codec := sessPCMU(t)
	if err := s.Start(t.Context(), SessionConfig{Codec: codec, Remote: peerAddrOf(peer)}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	read := func() []int16 {
		t.Helper()
		_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := peer.Read(buf)
		if err != nil {
			t.Fatalf("no packet: %v", err)
		}
		return codec.Decode(nil, buf[12:n])
	}
	if f := read(); sessRMS(f) != 0 {
		t.Fatal("the first packet, sent at start, is not silence")
	}
	go func() { _ = s.Play(t.Context(), sessTone(8000, 200*time.Millisecond), 8000) }()
	if f := read(); sessRMS(f) == 0 {
		t.Fatal("the packet after Play is silence")
	}
}
