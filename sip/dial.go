package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DialError is an outbound INVITE that did not become a leg.
type DialError struct {
	// Status is the final status: the remote's (486, 480, 603...), 487 or
	// 408 after our CANCEL, 408 when nothing answered, 488 when we refused
	// the remote's answer SDP (the leg was then ACKed and hung up).
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

// reservedHeaders may not be set through Dial's headers: sipgo and the
// dialog own them.
var reservedHeaders = []string{"via", "from", "to", "call-id", "cseq", "contact", "max-forwards",
	"route", "record-route", "content-type", "content-length", "l", "f", "t", "i", "m", "v", "c"}

// Dial places an outbound INVITE to target (a URI from configuration,
// never from a request), through Config.Outbound when set: From is the
// caller of c at our host, hs are added as headers (context headers,
// User-to-User), and the SDP offer comes from local. Provisional responses
// are logged; a 2xx is ACKed and returned as a Leg with the negotiated
// media. A failure to answer is a *DialError; when ringTimeout (if > 0)
// expires first the INVITE is canceled and the DialError has Timeout set.
func (c *Call) Dial(ctx context.Context, target string, hs []Header, local Local, ringTimeout time.Duration) (leg *Leg, err error) {
	defer func() { c.srv.metrics.dials.WithLabelValues(dialResult(err)).Inc() }()
	if c.ended() {
		return nil, fmt.Errorf("dial %s: %w: call ended: %w", target, ErrCallState, c.Err())
	}
	if local.SessionID == 0 {
		local.SessionID = newSessionID()
	}
	offer, err := BuildOffer(local)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	req, err := c.srv.newInvite(target, hs, c.invite.From(), offer)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	transport := strings.ToUpper(req.Transport())
	ua := c.srv.net.uas[transport]
	if ua == nil {
		return nil, fmt.Errorf("dial %s: no %s listener for our Contact", target, transport)
	}
	contact := c.srv.net.contact(transport, req.Recipient.Scheme == "sips")
	req.AppendHeader(&contact)
	c.srv.net.prepare(req, c.srv.cfg.UserAgent)
	ringCtx, cancel := ctx, context.CancelFunc(func() {})
	if ringTimeout > 0 {
		ringCtx, cancel = context.WithTimeout(ctx, ringTimeout)
	}
	defer cancel()
	log := c.log.With("leg_call_id", callID(req))
	dlg, err := ua.WriteInvite(ringCtx, req)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	notifySent(ctx)
	err = dlg.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		Username: c.srv.cfg.OutboundUsername, Password: c.srv.cfg.OutboundPassword,
		OnResponse: func(r *sip.Response) error {
			log.Debug("sip dial response", "status", r.StatusCode)
			return nil
		},
	})
	if err != nil {
		return nil, c.dialFailed(ctx, ringCtx, dlg, err)
	}
	return c.newLeg(ctx, dlg, transport, local, offer)
}

// dialFailed turns WaitAnswer's error into a DialError. A 2xx that raced
// our CANCEL is ACKed and hung up.
func (c *Call) dialFailed(ctx, ringCtx context.Context, dlg *sipgo.DialogClientSession, err error) error {
	var rejected *sipgo.ErrDialogResponse
	if errors.As(err, &rejected) {
		return &DialError{Status: rejected.Res.StatusCode, Reason: rejected.Res.Reason}
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
	if ringCtx.Err() != nil && ctx.Err() == nil {
		de.Timeout = true
	} else if ctx.Err() != nil {
		de.Err = errors.Join(err, context.Cause(ctx))
	}
	return de
}

func dialResult(err error) string {
	var de *DialError
	switch {
	case err == nil:
		return "answered"
	case errors.As(err, &de) && de.Timeout:
		return "timeout"
	case errors.As(err, &de) && de.Err == nil:
		return "rejected"
	}
	return "error"
}

// newInvite builds the INVITE of a Dial.
func (s *Server) newInvite(target string, hs []Header, caller *sip.FromHeader, offer []byte) (*sip.Request, error) {
	var to sip.Uri
	if err := sip.ParseUri(target, &to); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if (to.Scheme != "sip" && to.Scheme != "sips" || to.Host == "") && s.outbound == nil {
		return nil, fmt.Errorf("target %q: not a sip: URI with a host, and no outbound proxy", target)
	}
	req := sip.NewRequest(sip.INVITE, to)
	if s.outbound != nil {
		route := sip.RouteHeader{Address: *s.outbound.Clone()}
		route.Address.UriParams.Add("lr", "")
		req.AppendHeader(&route)
	}
	user, display := "switchboard", ""
	if caller != nil && caller.Address.User != "" {
		user, display = caller.Address.User, strings.NewReplacer(`"`, "", `\`, "").Replace(headerSafe(caller.DisplayName, 64))
	}
	from := sip.FromHeader{DisplayName: display, Address: sip.Uri{Scheme: "sip", User: user, Host: hostForURI(s.net.host)}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: to.Scheme, User: to.User, Host: to.Host, Port: to.Port}})
	for _, h := range hs {
		if err := checkHeader(h); err != nil {
			return nil, err
		}
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	return req, nil
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

// Leg is an outbound call placed by Dial. Its methods are safe for
// concurrent use.
type Leg struct {
	dialogCore
	dlg     *sipgo.DialogClientSession
	call    *Call
	key     string
	answer  Answer
	contact sip.ContactHeader

	mu     sync.Mutex
	byed   bool    // a BYE was sent or received
	target sip.Uri // the remote's Contact, refreshed by re-INVITE
}

// newLeg parses the answer, ACKs it and registers the leg. An unusable
// answer is ACKed and hung up (RFC 3261 §13.2.2.4 leaves no other way out).
func (c *Call) newLeg(ctx context.Context, dlg *sipgo.DialogClientSession, transport string, local Local, offer []byte) (*Leg, error) {
	res := dlg.InviteResponse
	ans, perr := ParseAnswer(offer, res.Body())
	if err := dlg.Ack(ctx); err != nil {
		return nil, fmt.Errorf("dial: ack: %w", err)
	}
	if perr != nil {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
		defer cancel()
		_ = dlg.Bye(bctx)
		return nil, &DialError{Status: 488, Reason: "Not Acceptable Here", Err: perr}
	}
	ours, _ := dlg.InviteRequest.From().Params.Get("tag")
	theirs, _ := res.To().Params.Get("tag")
	l := &Leg{
		dialogCore: newDialogCore(c.srv, c.log.With("leg_call_id", callID(res)), transport),
		dlg:        dlg, call: c, answer: ans,
		key:     dialogKey(callID(res), ours, theirs),
		contact: c.srv.net.contact(transport, dlg.InviteRequest.Recipient.Scheme == "sips"),
		target:  dlg.InviteRequest.Recipient,
	}
	if ct := res.Contact(); ct != nil {
		l.target = *ct.Address.Clone()
	}
	l.sess.init(local, offer)
	c.srv.register(l.key, l)
	if !c.addLeg(l) {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
		defer cancel()
		_ = l.Hangup(bctx)
		return nil, fmt.Errorf("dial: %w: call ended while the leg was answered: %w", ErrCallState, c.Err())
	}
	return l, nil
}

// ID returns the leg's Call-ID.
func (l *Leg) ID() string { return callID(l.dlg.InviteRequest) }

// Answer returns the media negotiated when the leg was answered; later
// changes arrive on Updates.
func (l *Leg) Answer() Answer { return l.answer }

// Hangup sends BYE and ends the leg.
func (l *Leg) Hangup(ctx context.Context) error {
	l.mu.Lock()
	if l.byed {
		l.mu.Unlock()
		return nil
	}
	l.byed = true
	bye := sip.NewRequest(sip.BYE, *l.target.Clone())
	l.mu.Unlock()
	bye.SetTransport(l.transport)
	l.srv.net.prepare(bye, l.srv.cfg.UserAgent)
	err := l.dlg.WriteBye(ctx, bye)
	l.end(ErrHangup)
	if err != nil {
		return fmt.Errorf("leg bye: %w", err)
	}
	return nil
}

func (l *Leg) end(cause error) {
	l.cancel(cause)
	l.srv.unregister(l.key)
	l.call.removeLeg(l)
}

// handleInDialog takes the remote's requests on the leg.
func (l *Leg) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	switch {
	case req.IsAck():
		l.acks.deliver(req)
		return
	case req.IsCancel():
		l.srv.respond(req, tx, 481, reasonPhrase(481))
		return
	case req.CSeq() == nil || !l.cseq.accept(req.CSeq().SeqNo):
		l.srv.respond(req, tx, 500, "CSeq Out Of Order")
		return
	}
	var err error
	switch req.Method {
	case sip.BYE:
		l.mu.Lock()
		l.byed = true
		l.mu.Unlock()
		err = l.dlg.ReadBye(req, tx)
		l.end(ErrRemoteHangup)
	case sip.INVITE:
		l.mu.Lock()
		if ct := req.Contact(); ct != nil {
			l.target = *ct.Address.Clone()
		}
		l.mu.Unlock()
		err = l.onReinvite(req, tx, l.contact)
	case sip.UPDATE:
		err = l.onUpdate(req, tx, l.contact)
	case sip.OPTIONS:
		l.srv.onOptions(req, tx)
	default:
		res := l.srv.response(req, 405, reasonPhrase(405), nil)
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		l.srv.send(tx, res)
	}
	if err != nil {
		l.log.Info("sip leg request not completed", "method", string(req.Method), "err", err)
	}
}

// addLeg tracks a leg so the call's end hangs it up; false once the call
// has finished, when nobody would.
func (c *Call) addLeg(l *Leg) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return false
	}
	c.legs[l] = struct{}{}
	return true
}

func (c *Call) removeLeg(l *Leg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.legs, l)
}

func (c *Call) hangupLegs(ctx context.Context) {
	c.mu.Lock()
	legs := make([]*Leg, 0, len(c.legs))
	for l := range c.legs {
		legs = append(legs, l)
	}
	c.mu.Unlock()
	for _, l := range legs {
		if err := l.Hangup(ctx); err != nil {
			c.log.Info("sip leg hangup", "err", err)
		}
	}
}
