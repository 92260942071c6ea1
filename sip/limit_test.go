package sip

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLimiter(Limits{Invite: Rate{PerSecond: 2, Burst: 2}, DropAfter: 1}, func() time.Time { return now })
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	steps := []struct {
		name string
		src  netip.Addr
		kind int
		want limitVerdict
	}{
		{"burst 1", a, limitInvite, limitPass},
		{"burst 2", a, limitInvite, limitPass},
		{"over the rate: refused", a, limitInvite, limitRefuse},
		{"past the refusals: dropped", a, limitInvite, limitDrop},
		{"another kind is not limited", a, limitOptions, limitPass},
		{"another source has its own buckets", b, limitInvite, limitPass},
	}
	for _, st := range steps {
		if got := l.check(st.src, st.kind); got != st.want {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
	}
	now = now.Add(time.Second)
	if got := l.check(a, limitInvite); got != limitPass {
		t.Fatalf("a second later: %v, want pass", got)
	}
	now = now.Add(2 * time.Minute)
	l.check(b, limitInvite)
	if len(l.sources) != 1 {
		t.Errorf("%d sources kept after a quiet minute, want 1 (the one just seen)", len(l.sources))
	}
}

// Forged sources cannot grow the limiter past its bound: past it they
// share one set of buckets.
func TestLimiterIsBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLimiter(Limits{Options: Rate{PerSecond: 1, Burst: 1}}, func() time.Time { return now })
	for i := range maxLimitedSources + 100 {
		l.check(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), limitOptions)
	}
	if len(l.sources) != maxLimitedSources {
		t.Errorf("%d sources tracked, want the bound %d", len(l.sources), maxLimitedSources)
	}
}

// A source over its OPTIONS rate gets 503 with Retry-After, then nothing;
// another source is answered all along.
func TestSourceOverItsRateRefusedThenDropped(t *testing.T) {
	s := startServer(t, Config{Limits: Limits{Options: Rate{PerSecond: 0.01, Burst: 2}, DropAfter: 2}}, nil)
	flood := optionsConn(t, s, "127.0.0.2:0")
	for i := range 6 { // at once, so that no bucket refills meanwhile
		flood.send(t, i)
	}
	got := flood.answers(t)
	if want := "200 200 503 503"; strings.Join(got, " ") != want {
		t.Errorf("answers %v, want %s and then nothing", got, want)
	}
	other := optionsConn(t, s, "127.0.0.1:0")
	other.send(t, 0)
	if got := other.answers(t); len(got) != 1 || got[0] != "200" {
		t.Errorf("another source got %v, want 200", got)
	}
	if got := toFloat(s.metrics.limited.WithLabelValues("options", "refused")); got != 2 {
		t.Errorf("limited{options,refused} = %v, want 2", got)
	}
	if got := toFloat(s.metrics.limited.WithLabelValues("options", "dropped")); got != 2 {
		t.Errorf("limited{options,dropped} = %v, want 2", got)
	}
}

type optionsSender struct {
	conn net.PacketConn
	dst  net.Addr
}

func optionsConn(t *testing.T, s *testServer, local string) optionsSender {
	t.Helper()
	c, err := net.ListenPacket("udp", local)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	dst, err := net.ResolveUDPAddr("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	return optionsSender{conn: c, dst: dst}
}

// send sends OPTIONS number i.
func (o optionsSender) send(t *testing.T, i int) {
	t.Helper()
	local := o.conn.LocalAddr().String()
	id := local + "-" + strconv.Itoa(i)
	req := "OPTIONS sip:" + o.dst.String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-lim-" + id + "\r\n" +
		"From: <sip:probe@" + local + ">;tag=1\r\nTo: <sip:" + o.dst.String() + ">\r\n" +
		"Call-ID: lim-" + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := o.conn.WriteTo([]byte(req), o.dst); err != nil {
		t.Fatal(err)
	}
}

// answers reads the statuses of the answers that come, sorted, until none
// has come for a second.
func (o optionsSender) answers(t *testing.T) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 4096)
	for {
		_ = o.conn.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := o.conn.ReadFrom(buf)
		if err != nil {
			slices.Sort(got)
			return got
		}
		status, _, _ := strings.Cut(strings.TrimPrefix(string(buf[:n]), "SIP/2.0 "), " ")
		if status == "503" && !strings.Contains(string(buf[:n]), "Retry-After: 1") {
			t.Errorf("503 without Retry-After:\n%s", buf[:n])
		}
		got = append(got, status)
	}
}

// Connections that send nothing are closed after FirstMessage, one source
// cannot hold more than MaxPerSource, and another source's request over
// TCP is answered all along.
func TestTCPGuards(t *testing.T) {
	s := startServer(t, Config{TCPGuard: TCPLimits{FirstMessage: 300 * time.Millisecond, MaxPerSource: 3}}, nil)
	addr := s.Addr("tcp")
	var idle []net.Conn
	for range 3 {
		idle = append(idle, tcpFrom(t, "127.0.0.2", addr))
	}
	over := tcpFrom(t, "127.0.0.2", addr)
	if !closedByPeer(over) {
		t.Error("a fourth connection from one source stayed open")
	}
	for i, c := range idle {
		if !closedByPeer(c) {
			t.Errorf("silent connection %d was not closed", i)
		}
	}
	eventually(t, "the closes counted", func() bool {
		return toFloat(s.metrics.tcpClosed.WithLabelValues("per_source")) == 1 &&
			toFloat(s.metrics.tcpClosed.WithLabelValues("first_message")) == 3
	})

	// A trunk that talks is answered, and its connection stays open past
	// the first-message bound.
	c := tcpFrom(t, "127.0.0.1", addr)
	for i := range 2 {
		local := c.LocalAddr().String()
		id := "tcp-guard-" + strconv.Itoa(i)
		req := "OPTIONS sip:" + addr + ";transport=tcp SIP/2.0\r\n" +
			"Via: SIP/2.0/TCP " + local + ";branch=z9hG4bK-" + id + "\r\n" +
			"From: <sip:probe@" + local + ">;tag=1\r\nTo: <sip:" + addr + ">\r\n" +
			"Call-ID: " + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(waitFor))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			t.Fatalf("request %d answered %q, %v", i, buf[:n], err)
		}
		time.Sleep(400 * time.Millisecond) // past FirstMessage: only silent connections are cut
	}
}

func tcpFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByPeer reports whether the peer closes c (a read ends without
// data) before waitFor.
func closedByPeer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	n, err := c.Read(make([]byte, 1))
	return n == 0 && err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// A request head split across reads, even a byte at a time, still counts.
func TestHeadEndedAcrossReads(t *testing.T) {
	for _, reads := range [][]string{
		{"OPTIONS sip:x SIP/2.0\r\n\r\n"},
		{"OPTIONS sip:x SIP/2.0\r", "\n\r\n"},
		{"OPTIONS sip:x SIP/2.0\r\n", "\r", "\n"},
		{"abc\r\n\r", "\n"},
		{"\r", "\n", "\r", "\n"},
	} {
		c := &guardedConn{}
		ended := false
		for _, r := range reads {
			ended = c.headEnded([]byte(r))
		}
		if !ended {
			t.Errorf("%q: head end not seen", reads)
		}
	}
	c := &guardedConn{}
	for _, r := range []string{"OPTIONS sip:x SIP/2.0\r\n", "Via: x\r\n", "\r"} {
		if c.headEnded([]byte(r)) {
			t.Errorf("head end seen in %q before it came", r)
		}
	}
}
