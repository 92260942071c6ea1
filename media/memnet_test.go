package media

import (
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// memNet is an in-memory UDP network: a datagram goes into the queue of
// the conn bound to its destination, or is lost, as UDP would. Its reads
// block on channels, which lets sessions run under testing/synctest.
type memNet struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*memConn
}

type memPacket struct {
	from netip.AddrPort
	data []byte
}

type memConn struct {
	net    *memNet
	addr   netip.AddrPort
	in     chan memPacket
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	deadline time.Time
}

func newMemNet() *memNet { return &memNet{conns: map[netip.AddrPort]*memConn{}} }

func (n *memNet) listen(t *testing.T, addr string) *memConn {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	c := &memConn{net: n, addr: ap, in: make(chan memPacket, 1024), closed: make(chan struct{})}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.conns[ap]; dup {
		t.Fatalf("memnet: %s in use", addr)
	}
	n.conns[ap] = c
	return c
}

func (c *memConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	c.mu.Lock()
	dl := c.deadline
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !dl.IsZero() {
		d := time.Until(dl)
		if d <= 0 {
			return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
		}
		timer := time.NewTimer(d)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case p := <-c.in:
		return copy(b, p.data), p.from, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, net.ErrClosed
	case <-timeout:
		return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
	}
}

func (c *memConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.net.mu.Lock()
	dst := c.net.conns[addr]
	c.net.mu.Unlock()
	if dst != nil {
		select {
		case dst.in <- memPacket{from: c.addr, data: append([]byte(nil), b...)}:
		default: // queue full: lost
		}
	}
	return len(b), nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

func (c *memConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.net.mu.Lock()
		delete(c.net.conns, c.addr)
		c.net.mu.Unlock()
	})
	return nil
}

// packets takes every datagram queued at c without blocking.
func (c *memConn) packets() []memPacket {
	var ps []memPacket
	for {
		select {
		case p := <-c.in:
			ps = append(ps, p)
		default:
			return ps
		}
	}
}

// memSession opens a session on addr's RTP port (RTCP on the next one)
// and closes it when the test ends.
func memSession(t *testing.T, n *memNet, addr string) *Session {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	rtcpAddr := netip.AddrPortFrom(ap.Addr(), ap.Port()+1)
	s := newSession(slog.New(slog.DiscardHandler), n.listen(t, addr), n.listen(t, rtcpAddr.String()), ap.Port(), nil)
	t.Cleanup(func() { s.Close() })
	return s
}
