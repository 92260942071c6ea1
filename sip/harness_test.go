package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// waitFor bounds waits for things that must happen; it only fails a test
// that is already broken, so it is generous.
const waitFor = 10 * time.Second

// syncBuffer collects a test's logs; they are printed only when it fails,
// and writing after the test ended is harmless.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	var buf syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type testServer struct {
	*Server
	reg  *prometheus.Registry
	stop func() // shuts the server down and waits for Serve; Cleanup calls it too
}

var loopback = []Trunk{{Name: "local", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}

// startServer runs a Server on ephemeral loopback ports until the test ends.
func startServer(t *testing.T, cfg Config, h Handler) *testServer {
	t.Helper()
	log := testLogger(t)
	if cfg.UDP == "" && cfg.TCP == "" && cfg.TLS == "" {
		cfg.UDP, cfg.TCP = "127.0.0.1:0", "127.0.0.1:0"
	}
	if cfg.Trunks == nil {
		cfg.Trunks = loopback
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "switchboard-test"
	}
	if h == nil {
		h = HandlerFunc(func(ctx context.Context, c *Call) { <-ctx.Done() })
	}
	reg := prometheus.NewRegistry()
	s, err := NewServer(cfg, h, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Listen(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	if cfg.UDP != "" {
		// Requests we send over UDP leave from the listening socket, which
		// sipgo finds in its pool only once ServeUDP runs.
		eventually(t, "server listening", func() bool { return s.ua.TransportLayer().Pool("udp").Size() > 0 })
	}
	return &testServer{Server: s, reg: reg, stop: stop}
}

func (s *testServer) rejected(reason string) float64 {
	return testutil.ToFloat64(s.metrics.rejected.WithLabelValues(reason))
}

func (s *testServer) dialsTotal(result string) float64 {
	return testutil.ToFloat64(s.metrics.dials.WithLabelValues(result))
}

func (s *testServer) callsTotal(result string) float64 {
	return testutil.ToFloat64(s.metrics.calls.WithLabelValues(result))
}

// uri returns a SIP URI on the server for a transport.
func (s *testServer) uri(t *testing.T, user, transport string) sip.Uri {
	t.Helper()
	ap := netip.MustParseAddrPort(s.Addr(strings.ToLower(transport)))
	u := sip.Uri{Scheme: "sip", User: user, Host: ap.Addr().String(), Port: int(ap.Port())}
	if transport != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", transport)
	}
	return u
}

// peer is a sipgo user agent on loopback playing the trunk or the far end.
type peer struct {
	t       *testing.T
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	addr    string
	contact sip.ContactHeader
	uacs    *sipgo.DialogClientCache
	uass    *sipgo.DialogServerCache

	mu       sync.Mutex
	handlers map[sip.RequestMethod]sipgo.RequestHandler
	errs     []string
}

// failf records a failure seen in one of the peer's handlers. They run in
// sipgo goroutines that may outlive the test, where t.Errorf would panic;
// the failures are reported when the peer is torn down.
func (p *peer) failf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, fmt.Sprintf(format, args...))
}

// on sets the peer's handler for a method; unlike sipgo's OnX it may be
// called while the peer serves.
func (p *peer) on(method sip.RequestMethod, h sipgo.RequestHandler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[method] = h
}

func (p *peer) dispatch(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	h := p.handlers[req.Method]
	p.mu.Unlock()
	if h == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
		return
	}
	h(req, tx)
}

// newPeer starts a peer listening on UDP (and sending from that socket)
// or TCP, with BYE handled for its dialogs.
func newPeer(t *testing.T, transport string, opts ...sipgo.UserAgentOption) *peer {
	t.Helper()
	opts = append(opts,
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	ua, err := sipgo.NewUA(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, ua: ua, srv: srv, handlers: map[sip.RequestMethod]sipgo.RequestHandler{}}
	srv.OnNoRoute(p.dispatch)
	var serve func() error
	var closer io.Closer
	switch transport {
	case "udp":
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.addr, closer = conn.LocalAddr().String(), conn
		serve = func() error { return srv.ServeUDP(conn) }
		p.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.addr))
	default:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.addr, closer = ln.Addr().String(), ln
		serve = func() error { return srv.ServeTCP(ln) }
		p.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	}
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	p.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "peer", Host: host, Port: n}}
	if transport != "udp" {
		p.contact.Address.UriParams = sip.NewParams()
		p.contact.Address.UriParams.Add("transport", transport)
	}
	p.uacs = sipgo.NewDialogClientCache(p.cli, p.contact)
	p.uass = sipgo.NewDialogServerCache(p.cli, p.contact)
	p.on(sip.BYE, func(req *sip.Request, tx sip.ServerTransaction) {
		if err := p.uacs.ReadBye(req, tx); err == nil {
			return
		}
		if err := p.uass.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No Dialog", nil))
		}
	})
	p.on(sip.ACK, func(req *sip.Request, tx sip.ServerTransaction) { _ = p.uass.ReadAck(req, tx) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = serve()
	}()
	t.Cleanup(func() {
		_ = closer.Close()
		<-done
		_ = ua.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errs {
			t.Errorf("peer %s: %s", p.addr, e)
		}
	})
	if transport == "udp" {
		// The client sends from the listening socket, which sipgo finds in
		// its pool only once ServeUDP runs.
		eventually(t, "peer listening", func() bool { return ua.TransportLayer().Pool("udp").Size() > 0 })
	}
	return p
}

// call describes an INVITE the peer sends.
type call struct {
	to       sip.Uri
	from     string // caller number
	sdp      []byte
	headers  []sip.Header
	statuses *[]int // every response status seen, in order
	onResp   func(*sip.Response)
	auth     sipgo.AnswerOptions
}

// invite sends an INVITE and waits for its final response; on 2xx it ACKs.
func (p *peer) invite(ctx context.Context, c call) (*sipgo.DialogClientSession, error) {
	req := sip.NewRequest(sip.INVITE, c.to)
	from := c.from
	if from == "" {
		from = "+15551230000"
	}
	fh := &sip.FromHeader{DisplayName: "Caller", Address: sip.Uri{Scheme: "sip", User: from, Host: "127.0.0.1"}, Params: sip.NewParams()}
	fh.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(fh)
	for _, h := range c.headers {
		req.AppendHeader(h)
	}
	if c.sdp != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(c.sdp)
	}
	if tp, ok := c.to.UriParams.Get("transport"); ok {
		req.SetTransport(strings.ToUpper(tp))
	}
	dlg, err := p.uacs.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	opts := c.auth
	opts.OnResponse = func(r *sip.Response) error {
		if c.statuses != nil {
			*c.statuses = append(*c.statuses, r.StatusCode)
		}
		if c.onResp != nil {
			c.onResp(r)
		}
		return nil
	}
	if err := dlg.WaitAnswer(ctx, opts); err != nil {
		return dlg, err
	}
	return dlg, dlg.Ack(ctx)
}

// inDialog sends a request in the peer's dialog and returns the final
// response.
func inDialog(ctx context.Context, dlg *sipgo.DialogClientSession, method sip.RequestMethod, body []byte, hs ...sip.Header) (*sip.Response, error) {
	req := sip.NewRequest(method, *dlg.InviteResponse.Contact().Address.Clone())
	for _, h := range hs {
		req.AppendHeader(h)
	}
	if body != nil {
		req.SetBody(body)
	}
	return dlg.Do(ctx, req)
}

// answering is a Handler that answers with local4 and hands the call and
// its answer to the test.
type answering struct {
	calls   chan *Call
	answers chan answerResult
	before  func()                             // runs before Answer
	after   func(ctx context.Context, c *Call) // runs after Answer, before waiting for the end
}

type answerResult struct {
	ans Answer
	err error
}

func newAnswering() *answering {
	return &answering{calls: make(chan *Call, 8), answers: make(chan answerResult, 8)}
}

func (a *answering) HandleCall(ctx context.Context, c *Call) {
	a.calls <- c
	if a.before != nil {
		a.before()
	}
	ans, err := c.Answer(ctx, local4)
	a.answers <- answerResult{ans, err}
	if err != nil {
		return
	}
	if a.after != nil {
		a.after(ctx, c)
	}
	<-ctx.Done()
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for %s to end", what)
	}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// peerCtx bounds a peer handler's request; unlike ctxFor it does not
// touch t, as the handler may run after the test ended.
func peerCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), waitFor)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

func asError[T any](err error, target *T) bool { return errors.As(err, target) }

func toFloat(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

// rawInvite writes an INVITE to the server at addr over conn, with callID
// as its Call-ID, tag and branch, extra header lines (each ending in
// CRLF) and an SDP body ("" sends none).
func rawInvite(t *testing.T, conn net.Conn, addr, callID, extra, body string) {
	t.Helper()
	local := conn.LocalAddr().String()
	invite := "INVITE sip:+15550100@" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + callID + "\r\n" + extra +
		"From: <sip:+15551230000@127.0.0.1>;tag=" + callID + "\r\nTo: <sip:+15550100@127.0.0.1>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 INVITE\r\nContact: <sip:uac@" + local + ">\r\nMax-Forwards: 70\r\n"
	if body != "" {
		invite += "Content-Type: application/sdp\r\n"
	}
	invite += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := conn.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
}

// finalStatusLine reads conn until a final response comes and returns its
// status line.
func finalStatusLine(t *testing.T, conn net.Conn) string {
	t.Helper()
	buf := make([]byte, 65535)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(waitFor))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no final response: %v", err)
		}
		if line, _, _ := strings.Cut(string(buf[:n]), "\r\n"); strings.HasPrefix(line, "SIP/2.0 ") && !strings.HasPrefix(line, "SIP/2.0 1") {
			return line
		}
	}
}

// spoofedBye sends, from 127.0.0.2, a BYE in the dialog that from, to and
// callID name (from is the sender's side) to the server at addr, and
// returns the answer's status line.
func spoofedBye(t *testing.T, addr, ruri, from, to, callID string, cseq uint32) string {
	t.Helper()
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	spoof, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer spoof.Close()
	bye := "BYE " + ruri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + spoof.LocalAddr().String() + ";branch=z9hG4bK-spoofed-bye-" + callID + "\r\n" +
		"From: " + from + "\r\nTo: " + to + "\r\nCall-ID: " + callID + "\r\n" +
		"CSeq: " + strconv.FormatUint(uint64(cseq), 10) + " BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := spoof.Write([]byte(bye)); err != nil {
		t.Fatal(err)
	}
	return finalStatusLine(t, spoof)
}
