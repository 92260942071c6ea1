package sip

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// TCPLimits guard the TCP and TLS listeners against connections that hold
// memory and do nothing (a flood of half-open connections), which sipgo
// leaves open for ever.
type TCPLimits struct {
	// FirstMessage is how long a new connection has to send a whole
	// request head (or a keep-alive); then it is closed. 0 = no bound.
	FirstMessage time.Duration
	// Idle closes a connection that has been quiet this long. 0 = never:
	// a connection that carried a request stays open, since in-dialog
	// requests come back over it and a call may be quiet for an hour.
	Idle time.Duration
	// MaxPerSource bounds one address's open connections; more are closed
	// as they are accepted. 0 = no bound.
	MaxPerSource int
}

// guardedListener applies TCPLimits to what it accepts.
type guardedListener struct {
	net.Listener
	limits  TCPLimits
	metrics *metrics

	mu   sync.Mutex
	open map[netip.Addr]int
}

func guardListener(l net.Listener, limits TCPLimits, m *metrics) net.Listener {
	if limits == (TCPLimits{}) {
		return l
	}
	return &guardedListener{Listener: l, limits: limits, metrics: m, open: map[netip.Addr]int{}}
}

// Accept returns the next connection within the limits. A connection over
// its source's bound is closed here and Accept goes on: sipgo stops serving
// on the first error Accept returns.
func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if !l.take(ip) {
			l.metrics.tcpClosed.WithLabelValues("per_source").Inc()
			_ = c.Close()
			continue
		}
		gc := &guardedConn{Conn: c, l: l, ip: ip}
		if l.limits.FirstMessage > 0 {
			gc.firstBy = time.Now().Add(l.limits.FirstMessage)
		}
		return gc, nil
	}
}

func (l *guardedListener) take(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.MaxPerSource > 0 && l.open[ip] >= l.limits.MaxPerSource {
		return false
	}
	l.open[ip]++
	return true
}

func (l *guardedListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] <= 1 {
		delete(l.open, ip)
		return
	}
	l.open[ip]--
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	return ap.Addr().Unmap()
}

// guardedConn closes a connection that sends no request head in time, or
// stays quiet past Idle. sipgo reads each connection on one goroutine.
type guardedConn struct {
	net.Conn
	l       *guardedListener
	ip      netip.Addr
	firstBy time.Time // zero: no bound
	started bool      // a request head (or keep-alive) has arrived
	tail    []byte    // the last bytes read before started, for a head split across reads (headEnded)

	closeOnce sync.Once
}

var headEnd = []byte("\r\n\r\n")

func (c *guardedConn) Read(b []byte) (int, error) {
	switch {
	case !c.started && !c.firstBy.IsZero():
		_ = c.Conn.SetReadDeadline(c.firstBy)
	case c.l.limits.Idle > 0:
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.l.limits.Idle))
	}
	n, err := c.Conn.Read(b)
	if !c.started && n > 0 && c.headEnded(b[:n]) {
		c.started = true
		if c.l.limits.Idle == 0 {
			_ = c.Conn.SetReadDeadline(time.Time{})
		}
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		reason := "idle"
		if !c.started {
			reason = "first_message"
		}
		c.l.metrics.tcpClosed.WithLabelValues(reason).Inc()
	}
	return n, err
}

// headEnded reports whether a request head ends in read, or across the
// bytes kept from the reads before it (the last three, in tail).
func (c *guardedConn) headEnded(read []byte) bool {
	if bytes.Contains(read, headEnd) {
		return true
	}
	joint := append(c.tail, read[:min(len(read), len(headEnd)-1)]...)
	if bytes.Contains(joint, headEnd) {
		return true
	}
	last := joint // read is shorter than the tail kept: joint ends the stream
	if len(read) >= len(headEnd)-1 {
		last = read
	}
	c.tail = append(c.tail[:0], last[len(last)-min(len(last), len(headEnd)-1):]...)
	return false
}

func (c *guardedConn) Close() error {
	c.closeOnce.Do(func() { c.l.release(c.ip) })
	return c.Conn.Close()
}
