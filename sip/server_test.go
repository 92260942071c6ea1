package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func options(t *testing.T, p *peer, to sip.Uri) *sip.Response {
	t.Helper()
	req := sip.NewRequest(sip.OPTIONS, to)
	if tp, ok := to.UriParams.Get("transport"); ok {
		req.SetTransport(strings.ToUpper(tp))
	}
	res, err := p.cli.Do(ctxFor(t), req)
	if err != nil {
		t.Fatalf("OPTIONS: %v", err)
	}
	return res
}

func TestOptionsFromTrunkAnswered200(t *testing.T) {
	s := startServer(t, Config{}, nil)
	for _, tp := range []string{"udp", "tcp"} {
		t.Run(tp, func(t *testing.T) {
			res := options(t, newPeer(t, tp), s.uri(t, "", tp))
			if res.StatusCode != 200 {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			for name, want := range map[string]string{"Allow": allowed, "Accept": "application/sdp", "Server": "switchboard-test"} {
				if h := res.GetHeader(name); h == nil || h.Value() != want {
					t.Errorf("%s = %v, want %q", name, h, want)
				}
			}
		})
	}
}

func TestUnknownSourceForbiddenAndCounted(t *testing.T) {
	s := startServer(t, Config{Trunks: []Trunk{{Name: "carrier", Allow: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}}}, nil)
	p := newPeer(t, "udp")
	if res := options(t, p, s.uri(t, "", "udp")); res.StatusCode != 403 {
		t.Fatalf("OPTIONS status %d, want 403", res.StatusCode)
	}
	_, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp")})
	if !isStatus(err, 403) {
		t.Fatalf("INVITE: %v, want 403", err)
	}
	if got := s.rejected(rejectACL); got != 2 {
		t.Fatalf("rejected{acl} = %v, want 2", got)
	}
}

func isStatus(err error, status int) bool {
	var de *sipgo.ErrDialogResponse
	if ok := asError(err, &de); ok {
		return de.Res.StatusCode == status
	}
	return false
}

func TestDigestChallengeThenSuccess(t *testing.T) {
	trunk := Trunk{Name: "pbx", Username: "pbx1", Password: "s3cret"}
	h := newAnswering()
	s := startServer(t, Config{Trunks: []Trunk{trunk}}, h)
	p := newPeer(t, "udp")
	to := s.uri(t, "", "udp")

	res := options(t, p, to)
	if res.StatusCode != 401 {
		t.Fatalf("unauthenticated OPTIONS: %d, want 401", res.StatusCode)
	}
	chal := res.GetHeader("WWW-Authenticate")
	if chal == nil || !strings.Contains(chal.Value(), `realm="switchboard"`) || !strings.Contains(chal.Value(), `qop="auth"`) {
		t.Fatalf("challenge %v lacks realm or qop", chal)
	}
	req := sip.NewRequest(sip.OPTIONS, to)
	res, err := p.cli.Do(ctxFor(t), req)
	if err != nil {
		t.Fatal(err)
	}
	res, err = p.cli.DoDigestAuth(ctxFor(t), req, res, sipgo.DigestAuth{Username: "pbx1", Password: "s3cret"})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("authenticated OPTIONS: %v %v, want 200", res, err)
	}

	// An INVITE authenticates the same way and becomes a call.
	dlg, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp"),
		auth: sipgo.AnswerOptions{Username: "pbx1", Password: "s3cret"}})
	if err != nil {
		t.Fatalf("authenticated INVITE: %v", err)
	}
	c := recv(t, h.calls, "call")
	if c.Trunk() != "pbx" {
		t.Errorf("trunk %q, want pbx", c.Trunk())
	}
	if r := recv(t, h.answers, "answer"); r.err != nil {
		t.Fatal(r.err)
	}
	if err := dlg.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitDone(t, c.Done(), "call")

	// A wrong password is refused, not challenged again.
	req = sip.NewRequest(sip.OPTIONS, to)
	res, _ = p.cli.Do(ctxFor(t), req)
	res, err = p.cli.DoDigestAuth(ctxFor(t), req, res, sipgo.DigestAuth{Username: "pbx1", Password: "wrong"})
	if err != nil || res.StatusCode != 403 {
		t.Fatalf("wrong password: %v %v, want 403", res, err)
	}
	if got := s.rejected(rejectAuth); got != 1 {
		t.Fatalf("rejected{auth} = %v, want 1", got)
	}
}

func TestMaxCallsAnswered503(t *testing.T) {
	ringing := make(chan *Call, 2)
	s := startServer(t, Config{MaxCalls: 1}, HandlerFunc(func(ctx context.Context, c *Call) {
		ringing <- c
		<-ctx.Done()
	}))
	p := newPeer(t, "udp")
	ctx, cancel := context.WithCancel(ctxFor(t))
	first := make(chan error, 1)
	go func() {
		_, err := p.invite(ctx, call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp")})
		first <- err
	}()
	c := recv(t, ringing, "first call")
	_, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp")})
	if !isStatus(err, 503) {
		t.Fatalf("second INVITE: %v, want 503", err)
	}
	if got := s.rejected(rejectCapacity); got != 1 {
		t.Fatalf("rejected{capacity} = %v, want 1", got)
	}
	cancel() // the caller gives up: CANCEL
	recv(t, first, "first INVITE canceled")
	waitDone(t, c.Done(), "first call")
}

// TestMalformedDatagramsDoNotStopServer sends what a fuzzer or a broken
// trunk sends, then checks the server still answers.
func TestMalformedDatagramsDoNotStopServer(t *testing.T) {
	s := startServer(t, Config{}, nil)
	conn, err := net.Dial("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	via := "Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK"
	garbage := [][]byte{
		[]byte("\x00\xff\xfe garbage \r\n\r\n"),
		[]byte("INVITE sip:+15550100@127.0.0.1 SIP/2.0\r\n" + via + "trunc\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: x"),
		[]byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\n" + via + "huge\r\nX-Huge: " + strings.Repeat("a", 60000) + "\r\n\r\n"),
		[]byte("SIP/2.0 200 OK\r\n\r\n"),
		[]byte("INVITE sip:x SIP/2.0\r\n" + via + "nocseq\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: nocseq\r\nContent-Length: 0\r\n\r\n"),
	}
	for _, g := range garbage {
		if _, err := conn.Write(g); err != nil {
			t.Fatal(err)
		}
	}
	// A request missing CSeq gets sipgo's stateless 400; the rest is dropped.
	valid := "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" + via + "valid\r\nFrom: <sip:probe@127.0.0.1>;tag=9\r\n" +
		"To: <sip:127.0.0.1>\r\nCall-ID: valid-options\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(valid)); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	buf := make([]byte, 65535)
	for !got["200"] || !got["400"] {
		_ = conn.SetReadDeadline(time.Now().Add(waitFor))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("want 200 to the valid OPTIONS and 400 to the INVITE without CSeq, got %v: %v", got, err)
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		got[strings.Fields(line)[1]] = true
	}
	if s.rejected(rejectMalformed) < 2 {
		t.Errorf("rejected{malformed} = %v, want the unparsable datagrams counted", s.rejected(rejectMalformed))
	}
}

// TestTLSOptionsAndCall: over TLS a trunk's health check is answered, and
// a call's BYE goes back over the connection the trunk opened.
func TestTLSOptionsAndCall(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	h := newAnswering()
	hungUp := make(chan error, 1)
	h.after = func(ctx context.Context, c *Call) { hungUp <- c.Hangup(ctx) }
	s := startServer(t, Config{TLS: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile}, h)
	p := newPeer(t, "tcp", sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if res := options(t, p, s.uri(t, "", "tls")); res.StatusCode != 200 {
		t.Fatalf("OPTIONS over TLS: %d, want 200", res.StatusCode)
	}
	dlg, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "tls"), sdp: readOffer(t, "twilio.sdp")})
	if err != nil {
		t.Fatalf("INVITE over TLS: %v", err)
	}
	if c := recv(t, h.calls, "call"); c.Transport() != "TLS" {
		t.Errorf("transport %q, want TLS", c.Transport())
	}
	if ct := dlg.InviteResponse.Contact(); ct == nil || !strings.Contains(ct.Value(), "transport=tls") {
		t.Errorf("Contact %v, want transport=tls", ct)
	}
	if err := recv(t, hungUp, "Hangup"); err != nil {
		t.Fatalf("Hangup over TLS: %v", err)
	}
	waitDone(t, dlg.Context().Done(), "peer dialog")
}

// selfSigned writes a certificate for 127.0.0.1 and returns its files and
// a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchboard-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestNewServerRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no listener", Config{}, "no listen address"},
		{"tls without cert", Config{TLS: "127.0.0.1:0"}, "cert_file"},
		{"trunk without allow or credentials", Config{UDP: "127.0.0.1:0", Trunks: []Trunk{{Name: "x"}}}, "needs allow"},
		{"trunk without name", Config{UDP: "127.0.0.1:0", Trunks: []Trunk{{Username: "u", Password: "p"}}}, "no name"},
		{"bad outbound", Config{UDP: "127.0.0.1:0", Outbound: "::nope"}, "outbound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewServer(tt.cfg, nil, nil, quiet)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewServer: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// One INVITE from a source outside every trunk gets one 403 over UDP, not
// a 403 resent until Timer H (a reflector for forged sources).
func TestRefusedInviteIsAnsweredOnce(t *testing.T) {
	t1, t2, t4 := sip.T1, sip.T2, sip.T4
	sip.SetTimers(20*time.Millisecond, 80*time.Millisecond, 100*time.Millisecond)
	t.Cleanup(func() { sip.SetTimers(t1, t2, t4) })
	s := startServer(t, Config{Trunks: []Trunk{{Name: "elsewhere", Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}}}, nil)
	conn, err := net.Dial("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rawInvite(t, conn, s.Addr("udp"), "reflect", "", "")
	var got []string
	buf := make([]byte, 65535)
	for {
		// Timer H is 64*T1 = 1.28 s here: retransmissions would come well
		// within it.
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		got = append(got, line)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 403") {
		t.Errorf("answers %q, want one 403", got)
	}
}

// Nothing registers here: a REGISTER from a trunk gets 405 with Allow,
// from anywhere else 403, and neither creates anything.
func TestRegisterRefused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		trunks []Trunk
		status int
	}{
		{"from a trunk", nil, 405},
		{"from an unknown source", []Trunk{{Name: "carrier", Allow: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}}, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{Trunks: tt.trunks}, nil)
			req := sip.NewRequest(sip.REGISTER, s.uri(t, "", "udp"))
			res, err := newPeer(t, "udp").cli.Do(ctxFor(t), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("REGISTER answered %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status == 405 && res.GetHeader("Allow") == nil {
				t.Error("405 without Allow")
			}
			if s.ActiveCalls() != 0 {
				t.Error("a REGISTER made a call")
			}
		})
	}
}

// INVITEs past max_calls that never ACK their 503 keep nothing: each is
// answered once, its transaction gone, so a flood of them holds no memory
// past the calls admitted.
func TestInvitesPastCapacityAnsweredOnce(t *testing.T) {
	t1, t2, t4 := sip.T1, sip.T2, sip.T4
	sip.SetTimers(20*time.Millisecond, 80*time.Millisecond, 100*time.Millisecond)
	t.Cleanup(func() { sip.SetTimers(t1, t2, t4) })
	ringing := HandlerFunc(func(ctx context.Context, c *Call) { <-ctx.Done() }) // admitted, never answered
	s := startServer(t, Config{MaxCalls: 2}, ringing)
	conn, err := net.Dial("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const invites = 40
	for i := range invites {
		rawInvite(t, conn, s.Addr("udp"), "cap-"+strconv.Itoa(i), "", "")
	}
	refusals := map[string]int{}
	buf := make([]byte, 65535)
	for {
		// Timer H is 64*T1 = 1.28 s here: resent 503s would come within it.
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, "SIP/2.0 503") {
			_, rest, _ := strings.Cut(msg, "Call-ID: ")
			id, _, _ := strings.Cut(rest, "\r\n")
			refusals[id]++
		}
	}
	if len(refusals) != invites-2 {
		t.Errorf("%d INVITEs refused, want %d (all but the 2 admitted)", len(refusals), invites-2)
	}
	for id, n := range refusals {
		if n != 1 {
			t.Errorf("%s: %d 503s, want one", id, n)
		}
	}
	if got := s.ActiveCalls(); got != 2 {
		t.Errorf("%d calls held, want max_calls 2", got)
	}
}
