package opus

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
)

// TestSessionRecoversLossWithFEC runs Opus through the whole RTP path: a
// session plays speech to another over loopback through a relay that
// drops every fifth packet, and the receiving session's frames for the
// dropped packets are rebuilt from the next packet's FEC, close to what
// the lost packet held, where before they were silence. Real time: about
// 1.5 s of speech at one packet per 20 ms.
func TestSessionRecoversLossWithFEC(t *testing.T) {
	ctx := t.Context()
	ports, err := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 47000, 47199)
	if err != nil {
		t.Fatal(err)
	}
	tx, rx := openSession(t, ports), openSession(t, ports)
	relay := newDropRelay(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), rx.LocalPort()), 5)
	start(t, tx, relay.addr())
	// rx sends to the relay too, which drops what it sends: sent straight
	// to tx, it would make tx latch onto rx and go round the relay.
	start(t, rx, relay.addr())

	// Collect what rx hears while tx plays 1.5 s of speech.
	var (
		mu     sync.Mutex
		frames [][]int16
	)
	heard := make(chan struct{})
	go func() {
		defer close(heard)
		for fr := range rx.Audio() {
			f := fr.PCM
			if len(f) != frame {
				t.Errorf("received a frame of %d samples, want %d", len(f), frame)
			}
			mu.Lock()
			frames = append(frames, append([]int16(nil), f...))
			mu.Unlock()
		}
	}()
	pcm := speech(t, rate)
	pcm = pcm[len(pcm)/5 : len(pcm)/5+75*frame]
	if err := tx.Play(ctx, pcm, rate); err != nil {
		t.Fatal(err)
	}
	// The jitter buffer declares a loss three packets later: let the last
	// speech out.
	sent := relay.count()
	deadline := time.Now().Add(5 * time.Second)
	for relay.count() < sent+8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // one packet time: polling, not synchronisation
	}
	if st := rx.Stats(); st.AudioDropped != 0 {
		t.Fatalf("the reader fell behind: %d frames dropped", st.AudioDropped)
	}
	tx.Close()
	rx.Close()
	<-heard

	mu.Lock()
	defer mu.Unlock()
	pkts, dropped, first := relay.result()
	// The reference: every packet sent, decoded with nothing lost.
	clean := make(map[uint16][]int16)
	d := newDecoder(t, rate)
	for _, p := range pkts {
		out, err := d.Decode(nil, p.payload)
		if err != nil {
			t.Fatalf("packet %d: %v", p.seq, err)
		}
		clean[p.seq] = out
	}
	var snrs []float64
	for _, seq := range dropped {
		i := int(seq - first)
		ref := clean[seq]
		if i >= len(frames) || energy(ref) < -40 {
			continue // not delivered yet, or silence: nothing to recover
		}
		snrs = append(snrs, snr(ref, frames[i]))
	}
	if len(snrs) < 5 {
		t.Fatalf("only %d spoken packets dropped and delivered (%d frames heard)", len(snrs), len(frames))
	}
	t.Logf("%d spoken packets dropped in %d sent: recovered at %.1f dB mean SNR against the clean decode", len(snrs), len(pkts), mean(snrs))
	if m := mean(snrs); m < 12 {
		t.Errorf("lost packets recovered at %.1f dB mean SNR; FEC gives about 20, concealment 7, silence 0", m)
	}
}

func openSession(t *testing.T, ports *media.Ports) *media.Session {
	t.Helper()
	s, err := ports.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func start(t *testing.T, s *media.Session, remote netip.AddrPort) {
	t.Helper()
	c, err := media.NewCodec("opus", 111)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.WithoutCancel(t.Context()), media.SessionConfig{Codec: c, Remote: remote}); err != nil {
		t.Fatal(err)
	}
}

// dropRelay forwards RTP to one address, dropping every nth packet after
// the first few, and keeps every packet it saw.
type dropRelay struct {
	conn *net.UDPConn
	to   netip.AddrPort
	n    int

	mu      sync.Mutex
	pkts    []relayed
	dropped []uint16
	first   uint16
}

type relayed struct {
	seq     uint16
	payload []byte
}

func newDropRelay(t *testing.T, to netip.AddrPort, n int) *dropRelay {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	r := &dropRelay{conn: conn, to: to, n: n}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run()
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return r
}

func (r *dropRelay) addr() netip.AddrPort {
	return r.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (r *dropRelay) run() {
	buf := make([]byte, 2048)
	var p rtp.Packet
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if from == r.to || p.Unmarshal(buf[:n]) != nil {
			continue
		}
		r.mu.Lock()
		if len(r.pkts) == 0 {
			r.first = p.SequenceNumber
		}
		i := len(r.pkts)
		r.pkts = append(r.pkts, relayed{p.SequenceNumber, append([]byte(nil), p.Payload...)})
		drop := i >= 10 && i%r.n == 0
		if drop {
			r.dropped = append(r.dropped, p.SequenceNumber)
		}
		r.mu.Unlock()
		if !drop {
			if _, err := r.conn.WriteToUDPAddrPort(buf[:n], r.to); err != nil {
				return
			}
		}
	}
}

// count is how many packets the relay has seen.
func (r *dropRelay) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pkts)
}

func (r *dropRelay) result() ([]relayed, []uint16, uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pkts, r.dropped, r.first
}
