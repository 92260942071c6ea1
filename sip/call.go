package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// hangupTimeout bounds the BYEs sent when a handler returns or the server
// shuts down, so a silent peer cannot hold shutdown for Timer F (32 s).
const hangupTimeout = 5 * time.Second

type callState int

const (
	stateRinging   callState = iota // no final response to the INVITE yet
	stateAnswering                  // 200 OK sent, waiting for its ACK
	stateUp                         // ACKed
	stateEnded
)

// Call is an admitted inbound call. Its methods are safe for concurrent
// use; the call ends (Done closes, Err says why) on CANCEL, BYE from the
// remote, Hangup, Reject, a failed Answer or server shutdown.
type Call struct {
	dialogCore
	dlg     *sipgo.DialogServerSession
	tx      sip.ServerTransaction
	invite  *sip.Request // the INVITE, with our To tag
	key     string
	trunk   string
	contact sip.ContactHeader

	final     chan struct{} // closed once the INVITE's final response is settled
	finalOnce sync.Once
	sendMu    sync.Mutex // our in-dialog requests take CSeq numbers in order

	mu       sync.Mutex
	state    callState
	okSent   bool    // a 2xx went out: the dialog exists at the peer
	acked    bool    // and was ACKed
	byeDone  bool    // a BYE was sent or received
	target   sip.Uri // remote target: the peer's Contact, refreshed by re-INVITE
	refer    *referSink
	legs     map[*Leg]struct{}
	finished bool // the handler returned: no new legs
}

func (s *Server) newCall(req *sip.Request, tx sip.ServerTransaction, trunk string) (*Call, error) {
	transport := strings.ToUpper(req.Transport())
	ua := s.net.uas[transport]
	if ua == nil {
		return nil, fmt.Errorf("no dialog user agent for transport %q", transport)
	}
	dlg, err := ua.ReadInvite(req, tx)
	if err != nil {
		return nil, fmt.Errorf("read invite: %w", err)
	}
	inv := dlg.InviteRequest
	ours, _ := inv.To().Params.Get("tag")
	theirs, _ := inv.From().Params.Get("tag")
	c := &Call{
		dialogCore: newDialogCore(s, s.log.With("call_id", callID(inv), "trunk", trunk), transport),
		dlg:        dlg, tx: tx, invite: inv, trunk: trunk,
		key:     dialogKey(callID(inv), ours, theirs),
		contact: s.net.contact(transport, inv.Recipient.Scheme == "sips"),
		final:   make(chan struct{}),
		target:  *inv.Contact().Address.Clone(),
		legs:    map[*Leg]struct{}{},
	}
	c.cseq.accept(inv.CSeq().SeqNo)
	tx.OnCancel(func(*sip.Request) { c.onCancel() })
	return c, nil
}

// ID returns the Call-ID.
func (c *Call) ID() string { return callID(c.invite) }

// From returns the caller: the user part of the From URI.
func (c *Call) From() string { return c.invite.From().Address.User }

// To returns the called number: the user part of the Request-URI (what
// the trunk routed to us), else of the To URI.
func (c *Call) To() string {
	if u := c.invite.Recipient.User; u != "" {
		return u
	}
	return c.invite.To().Address.User
}

// Trunk returns the name of the trunk that admitted the call.
func (c *Call) Trunk() string { return c.trunk }

// Source returns the address the INVITE came from.
func (c *Call) Source() netip.AddrPort { return sourceAddr(c.invite) }

// Transport returns "UDP", "TCP" or "TLS".
func (c *Call) Transport() string { return c.transport }

// Header returns the first value of a header of the INVITE, "" if absent.
func (c *Call) Header(name string) string {
	if h := c.invite.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// Offer returns the INVITE's SDP offer; empty for an offerless INVITE, in
// which case Answer sends an offer and takes the answer from the ACK.
func (c *Call) Offer() []byte { return slices.Clone(c.invite.Body()) }

// Ringing sends 180 Ringing.
func (c *Call) Ringing() error {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st != stateRinging {
		return fmt.Errorf("ringing: %w", ErrCallState)
	}
	res := c.srv.response(c.invite, 180, "Ringing", nil)
	res.AppendHeader(c.contact.Clone())
	return c.tx.Respond(res)
}

// Answer negotiates the offer against local, sends 200 OK with our SDP and
// Contact, retransmits it until the ACK and returns the media parameters.
// A negotiation failure is answered with the *Error's status and Warning,
// ends the call and is returned. local.SessionID is chosen when zero.
func (c *Call) Answer(ctx context.Context, local Local) (Answer, error) {
	c.inviting.Lock()
	defer c.inviting.Unlock()
	if err := c.transition(stateRinging, stateAnswering); err != nil {
		return Answer{}, fmt.Errorf("answer: %w", err)
	}
	if local.SessionID == 0 {
		local.SessionID = newSessionID()
	}
	offer := c.invite.Body()
	var ans Answer
	var sdp []byte
	var err error
	if len(offer) == 0 {
		sdp, err = BuildOffer(local)
		c.sess.init(local, sdp)
	} else {
		c.sess.init(local, nil)
		ans, err = c.sess.answer(offer)
		sdp = ans.SDP
	}
	if err != nil {
		return Answer{}, c.failAnswer(fmt.Errorf("answer: %w", err))
	}
	res := c.srv.okSDP(c.invite, sdp, c.contact)
	c.dlg.InviteResponse = res // sipgo builds our in-dialog requests' From from it
	ack, err := c.awaitACK(ctx, c.tx, res, c.markOKSent)
	if errors.Is(err, ErrUDPTooLarge) && !c.wasOKSent() {
		// The 200 OK does not fit a datagram and sipgo will not send it:
		// say so in a final response that fits, never leave the caller
		// with 100 Trying alone.
		return Answer{}, c.failAnswer(sdpError(513, warnMisc, err, "the answer does not fit a UDP datagram; call over TCP"))
	}
	if err == nil && len(offer) == 0 {
		ans, err = ParseAnswer(sdp, ack.Body())
	}
	if err != nil {
		err = fmt.Errorf("answer: %w", err)
		c.end(err)
		c.settle()
		return Answer{}, err
	}
	c.mu.Lock()
	c.acked = true
	if c.state == stateAnswering {
		c.state = stateUp
	}
	c.mu.Unlock()
	c.settle()
	return ans, nil
}

func (c *Call) wasOKSent() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.okSent
}

func (c *Call) markOKSent() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.okSent = true
}

// failAnswer answers the INVITE with the error's status and Warning and
// ends the call.
func (c *Call) failAnswer(err error) error {
	c.mu.Lock()
	c.state = stateEnded
	c.mu.Unlock()
	err = c.srv.respondError(c.invite, c.tx, err)
	c.end(fmt.Errorf("%w: %w", ErrRejected, err))
	c.settle()
	return err
}

// Reject answers the INVITE with a final error status (300-699), an
// optional reason phrase and Warning header value, and ends the call.
func (c *Call) Reject(status int, reason, warning string) error {
	if status < 300 || status > 699 {
		return fmt.Errorf("reject: %d is not a final error status", status)
	}
	if hasControl(reason) || hasControl(warning) {
		return errors.New("reject: control characters in reason or warning")
	}
	if reason == "" {
		reason = reasonPhrase(status)
	}
	return c.reject(status, reason, warning, fmt.Errorf("%w with %d", ErrRejected, status))
}

func (c *Call) reject(status int, reason, warning string, cause error) error {
	if err := c.transition(stateRinging, stateEnded); err != nil {
		return fmt.Errorf("reject: %w", err)
	}
	res := c.srv.response(c.invite, status, reason, nil)
	if warning != "" {
		res.AppendHeader(sip.NewHeader("Warning", warning))
	}
	err := c.tx.Respond(res)
	c.end(cause)
	c.settle()
	if err != nil {
		return fmt.Errorf("reject: %w", err)
	}
	return nil
}

// Hangup ends the call: BYE when it is up, 480 when still ringing. A BYE
// the peer does not answer still ends the call; the error says so.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	st := c.state
	if st == stateUp {
		c.state = stateEnded
	}
	c.mu.Unlock()
	switch st {
	case stateRinging:
		if err := c.reject(480, reasonPhrase(480), "", ErrHangup); err != nil && !c.ended() {
			return err
		}
		return nil
	case stateAnswering:
		c.end(ErrHangup) // Answer gives up; the BYE follows when the handler returns
		return nil
	case stateEnded:
		return nil
	}
	err := c.bye(ctx)
	c.end(ErrHangup)
	return err
}

func (c *Call) transition(from, to callState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != from {
		if c.state == stateEnded && c.Err() != nil {
			return fmt.Errorf("%w: call ended: %w", ErrCallState, c.Err())
		}
		return ErrCallState
	}
	c.state = to
	return nil
}

func (c *Call) end(cause error) { c.cancel(cause) }

func (c *Call) settle() { c.finalOnce.Do(func() { close(c.final) }) }

// bye sends BYE once; any final response, or none, ends the dialog.
func (c *Call) bye(ctx context.Context) error {
	c.mu.Lock()
	if c.byeDone {
		c.mu.Unlock()
		return nil
	}
	c.byeDone = true
	target := *c.target.Clone()
	c.mu.Unlock()
	res, err := c.do(ctx, sip.NewRequest(sip.BYE, target))
	if err != nil {
		return fmt.Errorf("bye: %w", err)
	}
	if res.StatusCode >= 300 && res.StatusCode != 481 && res.StatusCode != 408 {
		return fmt.Errorf("bye answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// do sends a request inside the dialog and waits for its final response.
func (c *Call) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := c.request(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	return finalResponse(ctx, tx)
}

func (c *Call) request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	req.SetTransport(c.transport)
	c.srv.net.prepare(req, c.srv.cfg.UserAgent)
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	tx, err := c.dlg.TransactionRequest(ctx, req)
	if err == nil {
		notifySent(ctx) // sipgo's client transaction wrote the request in Init
	}
	return tx, err
}

func finalResponse(ctx context.Context, tx sip.ClientTransaction) (*sip.Response, error) {
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			return nil, tx.Err()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// handleInDialog takes the peer's requests in this call's dialog.
func (c *Call) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if !c.fromPeer(req) {
		if !req.IsAck() {
			c.srv.refuse(req, tx, verdict{status: 403, reason: rejectInDialogSource, detail: "in-dialog request from outside the call's trunk"})
		}
		return
	}
	switch {
	case req.IsAck():
		c.acks.deliver(req)
		return
	case req.IsCancel():
		c.srv.respond(req, tx, 481, reasonPhrase(481))
		return
	case req.CSeq() == nil || !c.cseq.accept(req.CSeq().SeqNo):
		c.srv.respond(req, tx, 500, "CSeq Out Of Order")
		return
	}
	switch req.Method {
	case sip.BYE:
		c.onBye(req, tx)
	case sip.INVITE, sip.UPDATE:
		c.onOffer(req, tx)
	case sip.NOTIFY:
		c.onNotify(req, tx)
	case sip.OPTIONS:
		c.srv.onOptions(req, tx)
	default:
		c.srv.refuseMethod(req, tx)
	}
}

func (c *Call) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	prev := c.state
	c.state, c.byeDone = stateEnded, true
	if prev == stateAnswering {
		c.acked = true // the BYE proves our 200 arrived; its ACK may still be in flight
	}
	c.mu.Unlock()
	c.srv.respond(req, tx, 200, "OK")
	cause := ErrRemoteHangup
	if prev == stateRinging {
		// A BYE in an early dialog (RFC 3261 §15): the INVITE gets 487.
		c.srv.send(c.tx, c.srv.response(c.invite, 487, reasonPhrase(487), nil))
		cause = ErrCanceled
	}
	c.end(cause)
	c.settle()
}

// onCancel runs inside sipgo's transaction, which has already answered
// 200 to the CANCEL and 487 to the INVITE; it must not block.
func (c *Call) onCancel() {
	c.mu.Lock()
	if c.state != stateRinging {
		c.mu.Unlock()
		return
	}
	c.state = stateEnded
	c.mu.Unlock()
	c.end(ErrCanceled)
	c.settle()
}

// onOffer handles re-INVITE and UPDATE once the call is up.
func (c *Call) onOffer(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	st := c.state
	if st == stateUp && req.IsInvite() && req.Contact() != nil {
		c.target = *req.Contact().Address.Clone() // target refresh (RFC 3261 §12.2.2)
	}
	c.mu.Unlock()
	switch st {
	case stateUp:
	case stateEnded:
		c.srv.respond(req, tx, 481, reasonPhrase(481))
		return
	default:
		c.srv.respond(req, tx, 491, reasonPhrase(491))
		return
	}
	var err error
	if req.IsInvite() {
		err = c.onReinvite(req, tx, c.contact)
	} else {
		err = c.onUpdate(req, tx, c.contact)
	}
	if err != nil {
		c.log.Info("sip offer in dialog not completed", "method", string(req.Method), "err", err)
	}
	if errors.Is(err, ErrNoACK) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), hangupTimeout)
		defer cancel()
		_ = c.Hangup(ctx) // RFC 3261 §13.3.1.4: a 2xx never ACKed ends the session
	}
}

// runCall runs the Handler for one call and cleans up after it.
func (s *Server) runCall(c *Call) {
	defer s.release(c)
	defer c.finish()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("sip call handler panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	c.log.Info("sip call", "from", c.From(), "to", c.To(), "source", c.Source().String(), "transport", c.transport)
	s.handler.HandleCall(c.ctx, c)
}

// finish ends whatever the handler left open: a ringing call is rejected
// (503 on shutdown, else 480), legs and an answered call are hung up.
func (c *Call) finish() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), hangupTimeout)
	defer cancel()
	status := 480
	if errors.Is(c.Err(), ErrServerClosed) {
		status = 503
	}
	_ = c.reject(status, reasonPhrase(status), "", ErrHangup)
	c.mu.Lock()
	c.finished = true
	c.mu.Unlock()
	c.hangupLegs(ctx)
	c.mu.Lock()
	needBye := c.okSent && !c.byeDone
	c.state = stateEnded
	c.mu.Unlock()
	if needBye {
		if err := c.bye(ctx); err != nil {
			c.log.Info("sip bye", "err", err)
		}
	}
	c.end(ErrHangup)
	c.settle()
	c.srv.unregister(c.key)
	c.srv.metrics.calls.WithLabelValues(c.result()).Inc()
	c.log.Info("sip call ended", "cause", c.Err())
}

func (c *Call) result() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.acked:
		return resultAnswered
	case c.okSent:
		return resultFailed
	case errors.Is(c.Err(), ErrCanceled):
		return resultCanceled
	}
	return resultRejected
}

// fromPeer reports whether an in-dialog request comes from where the call
// was set up: the INVITE's source address, an address the call's trunk
// allows, or a proxy named in the INVITE's Record-Route. The dialog's tags
// are no proof on their own: they travel in clear, and whoever saw them
// could otherwise hang the call up or re-INVITE its media elsewhere.
func (c *Call) fromPeer(req *sip.Request) bool {
	src := sourceAddr(req).Addr()
	if !src.IsValid() {
		return false
	}
	if src == sourceAddr(c.invite).Addr() {
		return true
	}
	if t, ok := c.srv.adm.trunkNamed(c.trunk); ok {
		for _, p := range t.Allow {
			if p.Contains(src) {
				return true
			}
		}
	}
	var proxies []string
	for _, h := range c.invite.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			proxies = append(proxies, rr.Address.Host)
		}
	}
	return namedIn(src, proxies)
}
