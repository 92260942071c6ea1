package media

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
)

// Ports hands out RTP ports from a configured range on one address: an even
// port for RTP and the next one for RTCP (RFC 3550 §11). A pair goes back to
// the pool when its Session is closed. Ports is safe for concurrent use.
type Ports struct {
	addr netip.Addr
	min  int // first (even) RTP port

	mu   sync.Mutex
	used []bool // pair i is min+2i and min+2i+1
	next int    // pair to try first, so that a freed pair is not reused at once
}

// NewPorts returns a pool of the even/odd pairs within [min, max] on addr.
// An odd min is rounded up; the range must hold at least one pair.
func NewPorts(addr netip.Addr, min, max int) (*Ports, error) {
	if !addr.IsValid() {
		return nil, fmt.Errorf("rtp ports: invalid address")
	}
	if min < 1 || max > 65535 || min > max {
		return nil, fmt.Errorf("rtp ports: bad range %d-%d", min, max)
	}
	min += min % 2
	pairs := (max - min + 1) / 2
	if pairs < 1 {
		return nil, fmt.Errorf("rtp ports: range %d-%d holds no even/odd pair", min, max)
	}
	return &Ports{addr: addr.Unmap(), min: min, used: make([]bool, pairs)}, nil
}

// Open binds the RTP and RTCP sockets of a new Session on the next free
// pair. Pairs that another process holds are skipped. It fails with
// ErrPortsExhausted when no pair can be bound.
func (p *Ports) Open(log *slog.Logger) (*Session, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.used {
		idx := (p.next + i) % len(p.used)
		if p.used[idx] {
			continue
		}
		port := p.min + 2*idx
		rtpConn, rtcpConn, err := p.bind(port)
		if err != nil {
			log.Debug("rtp port pair busy", "port", port, "err", err)
			continue
		}
		p.used[idx] = true
		p.next = idx + 1
		release := func() { p.release(idx) }
		return newSession(log.With("rtp_port", port), rtpConn, rtcpConn, uint16(port), release), nil
	}
	return nil, fmt.Errorf("rtp ports %d-%d on %s: %w", p.min, p.min+2*len(p.used)-1, p.addr, ErrPortsExhausted)
}

func (p *Ports) bind(port int) (rtpConn, rtcpConn *net.UDPConn, err error) {
	rtpConn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.addr, uint16(port))))
	if err != nil {
		return nil, nil, err
	}
	rtcpConn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.addr, uint16(port+1))))
	if err != nil {
		rtpConn.Close()
		return nil, nil, err
	}
	return rtpConn, rtcpConn, nil
}

// Free is the number of port pairs not held by an open Session: the
// whole range once every session is closed. A pair that another process
// holds counts as free here; Open skips it.
func (p *Ports) Free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, used := range p.used {
		if !used {
			n++
		}
	}
	return n
}

func (p *Ports) release(idx int) {
	p.mu.Lock()
	p.used[idx] = false
	p.mu.Unlock()
}
