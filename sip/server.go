package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is the SIP edge's configuration.
type Config struct {
	UDP, TCP string // listen addresses, e.g. "127.0.0.1:5060"; empty = off
	TLS      string // TLS listen address; needs CertFile and KeyFile
	CertFile string
	KeyFile  string

	// Trunks may send us requests: from an allowed CIDR of some trunk, or
	// with digest credentials of a trunk that has them. Everything else is
	// answered 403, counted and logged.
	Trunks []Trunk

	// Outbound is an optional proxy URI (e.g. "sip:trunk.example.com;transport=tcp")
	// every Dial is routed through; OutboundUsername and OutboundPassword
	// answer its 401/407 challenges.
	Outbound         string
	OutboundUsername string
	OutboundPassword string

	UserAgent string // Server and User-Agent header value; empty = none
	MaxCalls  int    // admitted calls at once; beyond it INVITEs get 503. 0 = no limit
	// Limits bound each source address's request rate; zero = no limits.
	Limits Limits
	// TCP guards the TCP and TLS listeners; zero = no guards.
	TCPGuard TCPLimits

	// PublicHost is the host or IP put in Contact and Via; default the
	// listen IP, or the address of the default route's interface when
	// listening on all interfaces.
	PublicHost string
	// Identity is our SIP URI: Referred-By on our REFERs, and From on the
	// calls we place that have no caller of their own (Party.User empty),
	// such as a browser visitor's. A carrier usually wants a number it
	// assigned us: sip:+15550100@trunk.example.com. Default
	// sip:switchboard@PublicHost.
	Identity string
}

// Handler takes admitted calls. HandleCall runs in its own goroutine per
// INVITE; ctx ends when the call ends. When HandleCall returns, a call
// still ringing is rejected 480 and a call still up is hung up.
type Handler interface {
	HandleCall(ctx context.Context, c *Call)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Call)

// HandleCall calls f.
func (f HandlerFunc) HandleCall(ctx context.Context, c *Call) { f(ctx, c) }

// realm is the digest realm of our challenges.
const realm = "switchboard"

// Server is the SIP edge: listeners, trunk admission, inbound calls and
// outbound legs.
type Server struct {
	cfg       Config
	handler   Handler
	log       *slog.Logger
	rejectLog *limitedLog
	metrics   *metrics
	adm       *admission
	limits    *limiter // nil: no per-source limits
	tlsConf   *tls.Config
	outbound  *sip.Uri
	selfURI   *sip.Uri // Config.Identity parsed; nil: the default

	ua     *sipgo.UserAgent
	sipSrv *sipgo.Server
	client *sipgo.Client

	baseCtx   context.Context // parent of every call and leg; canceled on shutdown
	stopCalls context.CancelCauseFunc

	mu       sync.Mutex
	dialogs  map[string]dialogHandler
	calls    map[*Call]struct{}
	legs     map[*Leg]struct{} // answered and not yet ended
	draining bool              // no new calls or dials
	closed   bool              // no new requests at all
	inflight sync.WaitGroup
	callWG   sync.WaitGroup
	dialWG   sync.WaitGroup // Dials waiting for an answer
	legWG    sync.WaitGroup // legs in s.legs, until they end

	net     listeners
	serveWG sync.WaitGroup
}

// dialogHandler takes the requests of one dialog (a Call or a Leg).
type dialogHandler interface {
	handleInDialog(req *sip.Request, tx sip.ServerTransaction)
}

// NewServer checks cfg and builds the server; Listen binds it and Serve
// runs it. Metrics are registered on reg.
func NewServer(cfg Config, h Handler, reg prometheus.Registerer, log *slog.Logger) (*Server, error) {
	if cfg.UDP == "" && cfg.TCP == "" && cfg.TLS == "" {
		return nil, errors.New("sip: no listen address (udp, tcp or tls)")
	}
	s := &Server{cfg: cfg, handler: h, log: log, dialogs: map[string]dialogHandler{},
		calls: map[*Call]struct{}{}, legs: map[*Leg]struct{}{}}
	var err error
	if s.tlsConf, err = loadTLS(cfg); err != nil {
		return nil, err
	}
	if s.outbound, err = parseOutbound(cfg.Outbound); err != nil {
		return nil, err
	}
	if s.selfURI, err = parseIdentity(cfg.Identity); err != nil {
		return nil, err
	}
	if err := checkTrunks(cfg.Trunks); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("sip: no call handler")
	}
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, fmt.Errorf("sip metrics: %w", err)
	}
	if s.adm, err = newAdmission(cfg.Trunks, realm); err != nil {
		return nil, err
	}
	s.rejectLog = newLimitedLog(log, 2, 10)
	if cfg.Limits.enabled() {
		s.limits = newLimiter(cfg.Limits, time.Now)
	}
	s.baseCtx, s.stopCalls = context.WithCancelCause(context.Background())
	if err := s.newUA(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) newUA() error {
	malformed := s.metrics.rejected.WithLabelValues(rejectMalformed)
	sl := newSipgoLogger(s.log.Handler(), malformed.Inc)
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(s.cfg.UserAgent),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sl),
			// Retransmitted responses after their transaction ended are normal.
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				s.log.Debug("sip response outside any transaction", "status", r.StatusCode)
			}),
		),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sl)),
	)
	if err != nil {
		return fmt.Errorf("sip user agent: %w", err)
	}
	if s.sipSrv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(sl)); err != nil {
		return fmt.Errorf("sip server: %w", err)
	}
	s.sipSrv.OnNoRoute(s.route)
	s.ua = ua
	return nil
}

func loadTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLS == "" {
		return nil, nil
	}
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, errors.New("sip: tls listener needs cert_file and key_file")
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("sip tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func parseOutbound(s string) (*sip.Uri, error) {
	if s == "" {
		return nil, nil
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil || u.Host == "" {
		return nil, fmt.Errorf("sip: outbound %q is not a SIP URI: %v", s, err)
	}
	return &u, nil
}

// SetTrunks replaces the trunks allowed to send requests, as a config
// reload asks: a narrowed allow list refuses a source at its next request
// (calls in progress go on), a widened one admits it. Invalid trunks are
// refused and the old ones stay.
func (s *Server) SetTrunks(trunks []Trunk) error {
	if err := checkTrunks(trunks); err != nil {
		return err
	}
	s.adm.setTrunks(trunks)
	return nil
}

func parseIdentity(s string) (*sip.Uri, error) {
	if s == "" {
		return nil, nil
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return nil, fmt.Errorf("sip: identity %q: %w", s, err)
	}
	if (u.Scheme != "sip" && u.Scheme != "sips") || u.Host == "" {
		return nil, fmt.Errorf("sip: identity %q is not a sip: or sips: URI with a host", s)
	}
	if u.User != "" && checkUser(u.User) != nil {
		return nil, fmt.Errorf("sip: identity %q: %w", s, checkUser(u.User))
	}
	// Only what a From needs; parameters and headers would end up in it.
	return &sip.Uri{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port}, nil
}

func checkTrunks(trunks []Trunk) error {
	for i, t := range trunks {
		if t.Name == "" {
			return fmt.Errorf("sip: trunk %d has no name", i)
		}
		if len(t.Allow) == 0 && (t.Username == "" || t.Password == "") {
			return fmt.Errorf("sip: trunk %q needs allow CIDRs or username and password", t.Name)
		}
	}
	return nil
}

// Listen binds the configured listeners. Serve calls it when it has not
// been called; tests call it first to learn the ephemeral ports.
func (s *Server) Listen(ctx context.Context) error {
	if s.net.bound {
		return nil
	}
	if err := s.net.bind(ctx, s.cfg, s.tlsConf, s.metrics); err != nil {
		return err
	}
	host, err := s.publicHost()
	if err != nil {
		s.net.close()
		return err
	}
	if s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(host)); err != nil {
		s.net.close()
		return fmt.Errorf("sip client: %w", err)
	}
	s.net.setup(s.client, host)
	return nil
}

// Addr returns the bound address of "udp", "tcp" or "tls", "" when off.
func (s *Server) Addr(network string) string { return s.net.addr(network) }

func (s *Server) publicHost() (string, error) {
	if s.cfg.PublicHost != "" {
		return s.cfg.PublicHost, nil
	}
	for _, n := range []string{"udp", "tcp", "tls"} {
		ap, err := netip.ParseAddrPort(s.net.addr(n))
		if err == nil && !ap.Addr().IsUnspecified() {
			return ap.Addr().Unmap().String(), nil
		}
	}
	// Listening on all interfaces: use the address of the default route.
	// Dialing UDP sends nothing.
	c, err := net.Dial("udp4", "192.0.2.1:5060")
	if err != nil {
		return "", fmt.Errorf("sip: listening on all interfaces and no public address configured: %w", err)
	}
	defer c.Close()
	s.log.Warn("sip public host guessed from the default route; configure the public address", "host", c.LocalAddr().(*net.UDPAddr).IP.String())
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

// Serve handles SIP until ctx is done, then stops taking calls, ends the
// calls in progress (hanging them up), waits for their handlers and closes
// the listeners.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(ctx); err != nil {
		return err
	}
	errc := make(chan error, 3)
	for _, serve := range s.net.servers(s.sipSrv) {
		s.serveWG.Add(1)
		go func() {
			defer s.serveWG.Done()
			if err := serve(); err != nil && !errors.Is(err, net.ErrClosed) {
				errc <- err
			}
		}()
	}
	s.log.Info("sip listening", "udp", s.Addr("udp"), "tcp", s.Addr("tcp"), "tls", s.Addr("tls"))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("sip listener: %w", err)
	}
	s.shutdown()
	return err
}

// Drain stops taking new calls (an INVITE gets 503 with Retry-After, so a
// dispatcher or carrier tries elsewhere) and returns a channel closed once
// the calls under way have ended. They go on meanwhile; Serve's end hangs
// up whatever is left.
func (s *Server) Drain() <-chan struct{} {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.callWG.Wait()
		close(done)
	}()
	return done
}

// ActiveCalls is how many admitted calls are under way.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.stopCalls(ErrServerClosed)
	s.callWG.Wait()
	s.dialWG.Wait()
	s.hangupLegs()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
	s.net.close()
	s.serveWG.Wait()
	if err := s.ua.Close(); err != nil {
		s.log.Warn("sip user agent close", "err", err)
	}
}

// enter admits a request into the server's bookkeeping; false once closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

// reserve takes a call slot; false when draining or at MaxCalls.
func (s *Server) reserve(c *Call) (ok bool, draining bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false, true
	}
	if s.cfg.MaxCalls > 0 && len(s.calls) >= s.cfg.MaxCalls {
		return false, false
	}
	s.calls[c] = struct{}{}
	s.callWG.Add(1)
	s.metrics.active.Inc()
	return true, false
}

func (s *Server) release(c *Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.calls[c]; ok {
		delete(s.calls, c)
		s.metrics.active.Dec()
		s.callWG.Done()
	}
}

func (s *Server) register(key string, d dialogHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialogs[key] = d
}

func (s *Server) unregister(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dialogs, key)
}

func (s *Server) lookup(key string) dialogHandler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialogs[key]
}

// dialogKey names a dialog by Call-ID and tags, ours first, whatever our
// role in it: an in-dialog request carries our tag in To.
func dialogKey(callID, ourTag, theirTag string) string {
	return callID + "\x00" + ourTag + "\x00" + theirTag
}

func requestDialogKey(req *sip.Request) (string, bool) {
	to, from, id := req.To(), req.From(), req.CallID()
	if to == nil || from == nil || id == nil {
		return "", false
	}
	ours, ok := to.Params.Get("tag")
	if !ok || ours == "" {
		return "", false
	}
	theirs, _ := from.Params.Get("tag")
	return dialogKey(id.Value(), ours, theirs), true
}

// identity is our URI for Referred-By.
func (s *Server) identity() string {
	if s.cfg.Identity != "" {
		return s.cfg.Identity
	}
	return "sip:switchboard@" + hostForURI(s.net.host)
}

// identityURI is our URI for a Dial's From when the call has no caller.
func (s *Server) identityURI() sip.Uri {
	if s.selfURI != nil {
		return *s.selfURI.Clone()
	}
	return sip.Uri{Scheme: "sip", User: "switchboard", Host: hostForURI(s.net.host)}
}

func hostForURI(h string) string {
	if a, err := netip.ParseAddr(h); err == nil && a.Is6() {
		return "[" + h + "]"
	}
	return h
}

func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
