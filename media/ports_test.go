package media

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
)

func TestNewPortsRejectsBadRanges(t *testing.T) {
	tests := []struct {
		name     string
		addr     netip.Addr
		min, max int
	}{
		{"invalid address", netip.Addr{}, 10000, 10100},
		{"reversed", loopback, 10100, 10000},
		{"zero", loopback, 0, 100},
		{"above 65535", loopback, 65000, 70000},
		{"single odd port", loopback, 10001, 10001},
		{"odd min leaves no pair", loopback, 10001, 10002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewPorts(tt.addr, tt.min, tt.max); err == nil {
				t.Fatalf("NewPorts(%v, %d, %d) succeeded", tt.addr, tt.min, tt.max)
			}
		})
	}
}

// freeRange finds 2 pairs of ports nobody holds, so that the test knows
// exactly how many sessions fit.
func freeRange(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := 20000 + 2*rand.IntN(20000)
		ok := true
		for p := base; p < base+4 && ok; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range found")
	return 0
}

func TestPortsExhaustedThenReused(t *testing.T) {
	base := freeRange(t)
	p, err := NewPorts(loopback, base-1, base+3) // odd min is rounded up
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Free(); n != 2 {
		t.Fatalf("Free() = %d before any Open, want 2", n)
	}
	a, b := openSession(t, p), openSession(t, p)
	if n := p.Free(); n != 0 {
		t.Fatalf("Free() = %d with both pairs open, want 0", n)
	}
	got := map[uint16]bool{a.LocalPort(): true, b.LocalPort(): true}
	if !got[uint16(base)] || !got[uint16(base+2)] {
		t.Fatalf("ports %d and %d, want %d and %d", a.LocalPort(), b.LocalPort(), base, base+2)
	}
	if _, err := p.Open(nil); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("third Open = %v, want ErrPortsExhausted", err)
	}
	// The RTCP socket is bound too.
	if _, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: base + 1}); err == nil {
		t.Fatal("RTCP port was not bound")
	}
	a.Close()
	if n := p.Free(); n != 1 {
		t.Fatalf("Free() = %d after one Close, want 1", n)
	}
	c, err := p.Open(nil)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer c.Close()
	if c.LocalPort() != a.LocalPort() {
		t.Fatalf("reused port %d, want %d", c.LocalPort(), a.LocalPort())
	}
}

func TestPortsSkipAPairHeldElsewhere(t *testing.T) {
	base := freeRange(t)
	squatter, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: base + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	p, err := NewPorts(loopback, base, base+3)
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t, p)
	if s.LocalPort() != uint16(base+2) {
		t.Fatalf("port %d, want %d (the pair at %d has its RTCP port taken)", s.LocalPort(), base+2, base)
	}
	if _, err := p.Open(nil); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("Open = %v, want ErrPortsExhausted", err)
	}
}
