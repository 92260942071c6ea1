package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DialRequest is an outbound call for Server.Dial.
type DialRequest struct {
	// Target is the SIP URI to call. It comes from configuration, never
	// from a request: the gateway only ever calls what an admin set up.
	Target string
	// From is who the call is from, as the called side sees it.
	From Party
	// Headers are added to the INVITE (context headers, User-to-User);
	// the headers the dialog owns (Via, From, Contact...) are refused.
	Headers []Header
	// Local is our media; the SDP offer is built from it. Its SessionID is
	// chosen when zero.
	Local Local
	// RingTimeout, when > 0, bounds the wait for an answer: the INVITE is
	// then canceled and Dial returns a *DialError with Timeout set.
	RingTimeout time.Duration
}

// Party is the calling party an outbound INVITE names in From.
//
// Who that should be depends on the call. A phone call's transfer passes
// the caller through (Call.Dial does), so the agent's phone shows who is
// calling. A call with no SIP caller, a visitor calling from the browser,
// has no number to show: it leaves User empty and From is the server's
// Config.Identity (the gateway's own number at its carrier, which is the
// only calling number many carriers accept), with DisplayName saying who
// it really is ("Web visitor Jane"), which carriers pass on as free text.
type Party struct {
	// User is the user part of the From URI at our host, a number such
	// as "+15551234567"; "" uses Config.Identity's URI.
	User string
	// DisplayName is shown by the called phone; optional, and reduced to
	// printable text without quotes.
	DisplayName string
}

// DialError is an outbound INVITE that did not become a leg.
type DialError struct {
	// Status is the final status: the remote's (486, 480, 603...), 487 or
	// 408 after our CANCEL, 408 when nothing answered, 488 when we refused
	// the remote's answer SDP (the leg was then ACKed and hung up), 401 or
	// 407 when our credentials were refused or missing (Err wraps
	// ErrDialAuth).
	Status  int
	Reason  string
	Timeout bool  // the ring timeout expired and we canceled
	Err     error // the underlying error, if any
}

func (e *DialError) Error() string {
	s := fmt.Sprintf("dial: %d %s", e.Status, e.Reason)
	if e.Timeout {
		s += " (ring timeout)"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DialError) Unwrap() error { return e.Err }

// ErrDialAuth is wrapped by the DialError of an INVITE the target or the
// outbound proxy challenged (401/407) and did not let through: no
// credentials are configured, or it challenged the ones we sent.
var ErrDialAuth = errors.New("outbound credentials refused or missing")

// reservedHeaders may not be set through Dial's headers: sipgo and the
// dialog own them, and digest auth adds its own.
var reservedHeaders = []string{"via", "from", "to", "call-id", "cseq", "contact", "max-forwards",
	"route", "record-route", "content-type", "content-length", "authorization", "proxy-authorization",
	"l", "f", "t", "i", "m", "v", "c"}

// Dial places an outbound call that no inbound call needs to exist for:
// an INVITE to req.Target, through Config.Outbound when set, that answers
// one 401 or 407 challenge with Config.OutboundUsername and
// OutboundPassword. Provisional responses are logged; a 2xx is ACKed and
// returned as a Leg with the negotiated media. Anything else is a
// *DialError. An INVITE too large for UDP, or with credentials configured
// too large to leave room for them, is not sent: the error wraps
// ErrUDPTooLarge, and the caller may try again with fewer headers.
//
// ctx bounds the leg's whole life, not only its ringing, the way a call's
// context bounds everything the call starts: when ctx ends before the
// answer the INVITE is canceled, and after it the leg is hung up. Its
// owner ends it sooner with Hangup; the server's shutdown hangs up every
// leg still up. The server must be serving (Serve started).
func (s *Server) Dial(ctx context.Context, req DialRequest) (*Leg, error) {
	return s.dial(ctx, req, nil)
}

// Dial places an outbound call on behalf of c (see Server.Dial). Unless
// req.From is set, From carries c's caller, number and display name. The
// leg is also hung up when c ends.
func (c *Call) Dial(ctx context.Context, req DialRequest) (*Leg, error) {
	if req.From == (Party{}) {
		req.From = c.caller()
	}
	return c.srv.dial(ctx, req, c)
}

// caller is the Party of c's From. A user part that could not stand in a
// From of ours is left out: the call still goes out, from Config.Identity.
func (c *Call) caller() Party {
	from := c.invite.From()
	p := Party{DisplayName: from.DisplayName}
	if checkUser(from.Address.User) == nil {
		p.User = from.Address.User
	}
	return p
}

func (s *Server) dial(ctx context.Context, req DialRequest, owner *Call) (leg *Leg, err error) {
	defer func() { s.metrics.dials.WithLabelValues(dialResult(err)).Inc() }()
	if owner != nil && owner.ended() {
		return nil, fmt.Errorf("dial %s: %w: call ended: %w", req.Target, ErrCallState, owner.Err())
	}
	if !s.startDial() {
		return nil, fmt.Errorf("dial %s: %w", req.Target, ErrServerClosed)
	}
	defer s.dialWG.Done()
	local := req.Local
	if local.SessionID == 0 {
		local.SessionID = newSessionID()
	}
	offer, err := BuildOffer(local)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", req.Target, err)
	}
	inv, ua, err := s.outgoing(req, offer)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", req.Target, err)
	}
	transport := strings.ToUpper(inv.Transport())
	ringCtx, cancel := s.ringContext(ctx, req.RingTimeout)
	defer cancel()
	dlg, err := ua.WriteInvite(ringCtx, inv)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", req.Target, err)
	}
	notifySent(ctx)
	log := s.log
	if owner != nil {
		log = owner.log
	}
	log = log.With("leg_call_id", callID(inv)) // sipgo gave it a Call-ID as it sent it
	auth := challenges{creds: s.cfg.OutboundPassword != ""}
	err = dlg.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		Username: s.cfg.OutboundUsername, Password: s.cfg.OutboundPassword,
		OnResponse: func(r *sip.Response) error {
			log.Debug("sip dial response", "status", r.StatusCode)
			return auth.check(r)
		},
	})
	if err != nil {
		return nil, s.dialFailed(ctx, ringCtx, dlg, auth, err)
	}
	return s.newLeg(ctx, legSetup{dlg: dlg, owner: owner, transport: transport, local: local, offer: offer, log: log})
}

// outgoing builds a Dial's INVITE and picks the dialog user agent of its
// transport, which carries our Contact for it.
func (s *Server) outgoing(req DialRequest, offer []byte) (*sip.Request, *sipgo.DialogUA, error) {
	inv, err := s.newInvite(req, offer)
	if err != nil {
		return nil, nil, err
	}
	transport := strings.ToUpper(inv.Transport())
	ua := s.net.uas[transport]
	if ua == nil {
		return nil, nil, fmt.Errorf("no %s listener for our Contact", transport)
	}
	contact := s.net.contact(transport, inv.Recipient.Scheme == "sips")
	inv.AppendHeader(&contact)
	s.net.prepare(inv, s.cfg.UserAgent)
	if transport == "UDP" && s.cfg.OutboundPassword != "" {
		viaHost := fmt.Sprintf("%s:%d", hostForURI(s.net.host), contact.Address.Port)
		if n, ok := roomForCredentials(inv, s.cfg.OutboundUsername, viaHost); !ok {
			return nil, nil, fmt.Errorf("%w: %d bytes with room for the credentials of a challenged retry, UDP carries %d",
				ErrUDPTooLarge, n, udpLimit)
		}
	}
	return inv, ua, nil
}

// startDial counts a Dial in progress, so shutdown waits for it; false
// once the server is shutting down.
func (s *Server) startDial() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.dialWG.Add(1)
	return true
}

// ringContext bounds the wait for an answer: by ctx, by the ring timeout
// and by the server's shutdown, which must not wait for a ringing phone.
func (s *Server) ringContext(ctx context.Context, ring time.Duration) (context.Context, context.CancelFunc) {
	rctx, cancelCause := context.WithCancelCause(ctx)
	stop := context.AfterFunc(s.baseCtx, func() { cancelCause(ErrServerClosed) })
	cancel := func() { stop(); cancelCause(context.Canceled) }
	if ring <= 0 {
		return rctx, cancel
	}
	tctx, cancelTimer := context.WithTimeout(rctx, ring)
	return tctx, func() { cancelTimer(); cancel() }
}

// dialFailed turns WaitAnswer's error into a DialError. A 2xx that raced
// our CANCEL is ACKed and hung up.
func (s *Server) dialFailed(ctx, ringCtx context.Context, dlg *sipgo.DialogClientSession, auth challenges, err error) error {
	var refused *challengeRefused
	if errors.As(err, &refused) {
		return &DialError{Status: refused.res.StatusCode, Reason: refused.res.Reason,
			Err: fmt.Errorf("%w: challenged again after we answered with our credentials", ErrDialAuth)}
	}
	var rejected *sipgo.ErrDialogResponse
	if errors.As(err, &rejected) {
		de := &DialError{Status: rejected.Res.StatusCode, Reason: rejected.Res.Reason}
		if isChallenge(rejected.Res) && !auth.creds {
			de.Err = fmt.Errorf("%w: challenged, and no outbound credentials are configured", ErrDialAuth)
		} else if isChallenge(rejected.Res) {
			de.Err = fmt.Errorf("%w: challenged %d times", ErrDialAuth, auth.n)
		}
		return de
	}
	last := dlg.InviteResponse
	if last != nil && last.IsSuccess() {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
		defer cancel()
		if aerr := dlg.Ack(bctx); aerr == nil {
			_ = dlg.Bye(bctx)
		}
	}
	de := &DialError{Status: 408, Reason: "Request Timeout", Err: err}
	if last != nil && last.StatusCode >= 300 {
		de.Status, de.Reason = last.StatusCode, last.Reason
	}
	switch {
	case ctx.Err() != nil:
		de.Err = errors.Join(err, context.Cause(ctx))
	case errors.Is(context.Cause(ringCtx), context.DeadlineExceeded):
		de.Timeout = true
	case ringCtx.Err() != nil:
		de.Err = errors.Join(err, context.Cause(ringCtx)) // the server shut down
	}
	return de
}

func dialResult(err error) string {
	var de *DialError
	switch {
	case err == nil:
		return "answered"
	case errors.Is(err, ErrDialAuth):
		return "auth_failed"
	case errors.As(err, &de) && de.Timeout:
		return "timeout"
	case errors.As(err, &de) && de.Err == nil:
		return "rejected"
	}
	return "error"
}

// newInvite builds the INVITE of a Dial.
func (s *Server) newInvite(r DialRequest, offer []byte) (*sip.Request, error) {
	var to sip.Uri
	if err := sip.ParseUri(r.Target, &to); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if (to.Scheme != "sip" && to.Scheme != "sips" || to.Host == "") && s.outbound == nil {
		return nil, fmt.Errorf("target %q: not a sip: URI with a host, and no outbound proxy", r.Target)
	}
	from, err := s.fromHeader(r.From)
	if err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, to)
	if s.outbound != nil {
		route := sip.RouteHeader{Address: *s.outbound.Clone()}
		route.Address.UriParams.Add("lr", "")
		req.AppendHeader(&route)
	}
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: to.Scheme, User: to.User, Host: to.Host, Port: to.Port}})
	for _, h := range r.Headers {
		if err := checkHeader(h); err != nil {
			return nil, err
		}
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	return req, nil
}

// fromHeader is the From of an INVITE from p (see Party), with a new tag.
func (s *Server) fromHeader(p Party) (*sip.FromHeader, error) {
	addr := s.identityURI()
	if p.User != "" {
		if err := checkUser(p.User); err != nil {
			return nil, err
		}
		addr = sip.Uri{Scheme: "sip", User: p.User, Host: hostForURI(s.net.host)}
	}
	display := headerSafe(strings.NewReplacer(`"`, "", `\`, "").Replace(p.DisplayName), 64)
	from := &sip.FromHeader{DisplayName: display, Address: addr, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	return from, nil
}

// checkUser accepts what RFC 3261 §25.1 allows in a URI's user part, so a
// From we build stays one header with one URI.
func checkUser(u string) error {
	if u == "" || len(u) > 64 {
		return fmt.Errorf("from user %q: empty or longer than 64", u)
	}
	for i := 0; i < len(u); i++ {
		b := u[i]
		if !isAlnum(b) && !strings.ContainsRune("-_.!~*'()%&=+$,;?/", rune(b)) {
			return fmt.Errorf("from user %q: %q is not allowed in a SIP user part", u, b)
		}
	}
	return nil
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func checkHeader(h Header) error {
	token := h.Name != ""
	for i := 0; i < len(h.Name); i++ {
		token = token && isTokenByte(h.Name[i])
	}
	switch {
	case !token:
		return fmt.Errorf("header name %q is not a token", h.Name)
	case hasControl(h.Value):
		return fmt.Errorf("header %s: control characters in value", h.Name)
	}
	for _, r := range reservedHeaders {
		if strings.EqualFold(h.Name, r) {
			return fmt.Errorf("header %s is set by the dialog", h.Name)
		}
	}
	return nil
}
