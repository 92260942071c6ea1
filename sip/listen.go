package sip

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// listeners are the bound sockets and, per transport, the sipgo DialogUA
// that carries our Contact for it.
type listeners struct {
	bound    bool
	udp      net.PacketConn
	tcp      net.Listener
	tls      net.Listener
	host     string                     // advertised in Contact and Via
	uas      map[string]*sipgo.DialogUA // by transport: UDP, TCP, TLS
	udpLaddr sip.Addr                   // our UDP socket, so requests leave from it
}

func (l *listeners) bind(ctx context.Context, cfg Config, tlsConf *tls.Config, m *metrics) error {
	var lc net.ListenConfig
	var err error
	if cfg.UDP != "" {
		if l.udp, err = lc.ListenPacket(ctx, "udp", cfg.UDP); err != nil {
			return fmt.Errorf("sip udp listen: %w", err)
		}
	}
	if cfg.TCP != "" {
		if l.tcp, err = lc.Listen(ctx, "tcp", cfg.TCP); err != nil {
			l.close()
			return fmt.Errorf("sip tcp listen: %w", err)
		}
		l.tcp = guardListener(l.tcp, cfg.TCPGuard, m)
	}
	if cfg.TLS != "" {
		inner, err := lc.Listen(ctx, "tcp", cfg.TLS)
		if err != nil {
			l.close()
			return fmt.Errorf("sip tls listen: %w", err)
		}
		// Guarded outside TLS: the first-message bound covers the
		// handshake too, and reads see the requests in the clear.
		l.tls = guardListener(tls.NewListener(inner, tlsConf), cfg.TCPGuard, m)
	}
	l.bound = true
	return nil
}

// setup builds one DialogUA per transport. Over TCP and TLS, requests in a
// dialog go back over the connection the peer opened (RewriteContact), as
// the peer may not accept connections at its Contact; over UDP they go to
// the Contact (RFC 3261 §12.2.1.1), from our listening socket.
func (l *listeners) setup(client *sipgo.Client, host string) {
	l.host = host
	l.uas = map[string]*sipgo.DialogUA{}
	if l.udp != nil {
		ua := net.UDPAddr{}
		if a, ok := l.udp.LocalAddr().(*net.UDPAddr); ok {
			ua = *a
		}
		l.udpLaddr = sip.Addr{IP: ua.IP, Port: ua.Port}
		l.uas["UDP"] = &sipgo.DialogUA{Client: client, ContactHDR: l.contact("UDP", false)}
	}
	if l.tcp != nil {
		l.uas["TCP"] = &sipgo.DialogUA{Client: client, ContactHDR: l.contact("TCP", false), RewriteContact: true}
	}
	if l.tls != nil {
		l.uas["TLS"] = &sipgo.DialogUA{Client: client, ContactHDR: l.contact("TLS", false), RewriteContact: true}
	}
}

// contact is our Contact for a transport; secure makes it a sips: URI, as
// RFC 3261 §8.1.1.8 requires when the request came to a sips: URI.
func (l *listeners) contact(transport string, secure bool) sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: "switchboard", Host: l.host, Port: portOf(l.addr(strings.ToLower(transport)))}
	if secure {
		u.Scheme = "sips"
	}
	if transport != "UDP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", strings.ToLower(transport))
	}
	return sip.ContactHeader{Address: u}
}

func (l *listeners) addr(network string) string {
	switch network {
	case "udp":
		if l.udp != nil {
			return l.udp.LocalAddr().String()
		}
	case "tcp":
		if l.tcp != nil {
			return l.tcp.Addr().String()
		}
	case "tls":
		if l.tls != nil {
			return l.tls.Addr().String()
		}
	}
	return ""
}

// servers returns a blocking serve function per bound listener.
func (l *listeners) servers(srv *sipgo.Server) []func() error {
	var fs []func() error
	if l.udp != nil {
		fs = append(fs, func() error { return srv.ServeUDP(l.udp) })
	}
	if l.tcp != nil {
		fs = append(fs, func() error { return srv.ServeTCP(l.tcp) })
	}
	if l.tls != nil {
		fs = append(fs, func() error { return srv.ServeTLS(l.tls) })
	}
	return fs
}

func (l *listeners) close() {
	if l.udp != nil {
		_ = l.udp.Close()
	}
	if l.tcp != nil {
		_ = l.tcp.Close()
	}
	if l.tls != nil {
		_ = l.tls.Close()
	}
}

// prepare fills what sipgo leaves to us on a request we send: over UDP it
// leaves from our listening socket, so the peer's responses and NAT state
// follow the address it already knows.
func (l *listeners) prepare(req *sip.Request, userAgent string) {
	if strings.EqualFold(req.Transport(), "UDP") && l.udpLaddr.IP != nil {
		req.Laddr = l.udpLaddr
	}
	if userAgent != "" && req.GetHeader("User-Agent") == nil {
		req.AppendHeader(sip.NewHeader("User-Agent", userAgent))
	}
}
