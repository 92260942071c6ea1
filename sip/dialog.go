package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Errors a call or leg ends with; Err returns them (wrapped) and callers
// branch with errors.Is.
var (
	ErrCanceled     = errors.New("canceled by the caller before answer")
	ErrRemoteHangup = errors.New("remote hung up")
	ErrHangup       = errors.New("hung up by us")
	ErrRejected     = errors.New("rejected")
	ErrNoACK        = errors.New("no ACK for 200 OK")
	ErrServerClosed = errors.New("sip server closed")
	ErrCallState    = errors.New("not allowed in the call's current state")

	// ErrUDPTooLarge wraps a request that does not fit a UDP datagram
	// (sipgo refuses more than 1300 bytes and does not switch to TCP):
	// typically a REFER or INVITE with long context headers, or a Dial's
	// INVITE that would leave no room for the credentials of its retry.
	// Retry with fewer or shorter headers.
	ErrUDPTooLarge = sip.ErrUDPMTUCongestion
)

// allowed is our Allow header: what we accept inside and outside dialogs.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, UPDATE"

// dialogCore is what an inbound Call and an outbound Leg share: the
// offer/answer state, the ACK wait for our 2xx to an INVITE, the remote
// CSeq and the updates channel. The call or leg ends when ctx is canceled;
// its cause is the reason.
type dialogCore struct {
	srv       *Server
	log       *slog.Logger
	ctx       context.Context
	cancel    context.CancelCauseFunc
	sess      session
	acks      ackWaiter
	cseq      cseqTracker
	updates   chan Answer
	inviting  sync.Mutex // one INVITE transaction at a time in the dialog (RFC 3261 §14.2)
	transport string
}

func newDialogCore(srv *Server, log *slog.Logger, transport string) dialogCore {
	ctx, cancel := context.WithCancelCause(srv.baseCtx)
	return dialogCore{srv: srv, log: log, ctx: ctx, cancel: cancel, updates: make(chan Answer, 4), transport: transport}
}

// Done is closed when the dialog ends.
func (d *dialogCore) Done() <-chan struct{} { return d.ctx.Done() }

// Err says why the dialog ended, nil while it is up.
func (d *dialogCore) Err() error { return context.Cause(d.ctx) }

// Updates delivers the media parameters of every re-INVITE or UPDATE we
// answered (hold, resume, new address, session refresh). It is never
// closed; when the reader falls behind, the oldest update is dropped, since
// only the latest describes the session.
func (d *dialogCore) Updates() <-chan Answer { return d.updates }

func (d *dialogCore) pushUpdate(a Answer) {
	for {
		select {
		case d.updates <- a:
			return
		default:
		}
		select {
		case <-d.updates:
		default:
		}
	}
}

func (d *dialogCore) ended() bool { return d.ctx.Err() != nil }

// session is one dialog's offer/answer state: our media and the last SDP
// we sent. The o= version moves only when our SDP changes (RFC 3264 §8).
type session struct {
	mu      sync.Mutex
	local   Local
	lastSDP []byte
}

func (s *session) init(local Local, sent []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.local, s.lastSDP = local, sent
}

func (s *session) last() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSDP
}

// answer negotiates an offer. A failed negotiation leaves the session as
// it was (RFC 3261 §14.2: a rejected re-INVITE changes nothing).
func (s *session) answer(offer []byte) (Answer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	local := s.local
	ans, err := Negotiate(offer, local)
	if err != nil {
		return Answer{}, err
	}
	if s.lastSDP != nil && !bytes.Equal(ans.SDP, s.lastSDP) {
		local.SessionVersion++
		if ans, err = Negotiate(offer, local); err != nil {
			return Answer{}, err
		}
	}
	s.local, s.lastSDP = local, ans.SDP
	return ans, nil
}

// ackWaiter hands the ACK for our latest 2xx to whoever waits for it.
type ackWaiter struct {
	mu   sync.Mutex
	cseq uint32
	ch   chan *sip.Request
}

func (w *ackWaiter) expect(cseq uint32) <-chan *sip.Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cseq, w.ch = cseq, make(chan *sip.Request, 1)
	return w.ch
}

func (w *ackWaiter) deliver(ack *sip.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil || ack.CSeq() == nil || ack.CSeq().SeqNo != w.cseq {
		return // a retransmitted or stray ACK
	}
	select {
	case w.ch <- ack:
	default:
	}
}

// cseqTracker enforces RFC 3261 §12.2.2: a request with a CSeq lower than
// the last one seen in the dialog is out of order.
type cseqTracker struct {
	mu   sync.Mutex
	last uint32
	set  bool
}

func (c *cseqTracker) accept(n uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set && n < c.last {
		return false
	}
	c.last, c.set = n, true
	return true
}

// awaitACK sends a 2xx to an INVITE and retransmits it (T1 doubling up to
// T2) until its ACK arrives, for 64*T1 at most (RFC 3261 §13.3.1.4). The
// retransmission is the UAS core's job on every transport; sipgo's server
// transaction leaves it to us (RFC 6026). It returns the ACK, which carries
// the answer when our 2xx held the offer. sent, if set, runs once the
// first 2xx is out.
func (d *dialogCore) awaitACK(ctx context.Context, tx sip.ServerTransaction, res *sip.Response, sent func()) (*sip.Request, error) {
	acked := d.acks.expect(res.CSeq().SeqNo)
	if err := tx.Respond(res); err != nil {
		return nil, fmt.Errorf("send 200 OK: %w", err)
	}
	if sent != nil {
		sent()
	}
	interval := sip.T1
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	for {
		select {
		case ack := <-acked:
			return ack, nil
		case <-retransmit.C:
			if err := tx.Respond(res); err != nil {
				return nil, fmt.Errorf("retransmit 200 OK: %w", err)
			}
			interval = min(2*interval, sip.T2)
			retransmit.Reset(interval)
		case <-giveUp.C:
			return nil, ErrNoACK
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-d.ctx.Done():
			return nil, context.Cause(d.ctx)
		}
	}
}

// onReinvite answers an INVITE inside an established dialog: negotiate the
// new offer (or re-offer our last SDP when it has none), 200 OK, wait for
// the ACK and publish the result on Updates. A failed negotiation is
// answered 488/400 with a Warning and leaves the session as it was.
func (d *dialogCore) onReinvite(req *sip.Request, tx sip.ServerTransaction, contact sip.ContactHeader) error {
	if !d.inviting.TryLock() {
		res := d.srv.response(req, 500, "Server Internal Error", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(rand.IntN(10))))
		return tx.Respond(res)
	}
	ans, err := d.reinvite(req, tx, contact)
	// The transaction is over (ACKed or refused): a peer that sees the
	// update may send its next re-INVITE at once and must not get a 500.
	d.inviting.Unlock()
	if err != nil || ans == nil {
		return err
	}
	d.pushUpdate(*ans)
	return nil
}

// reinvite negotiates a re-INVITE and waits for its ACK; the Answer is nil
// when the offer was refused (and answered so).
func (d *dialogCore) reinvite(req *sip.Request, tx sip.ServerTransaction, contact sip.ContactHeader) (*Answer, error) {
	offer := req.Body()
	var ans Answer
	var sdp []byte
	if len(offer) == 0 {
		sdp = d.sess.last()
	} else {
		var err error
		if ans, err = d.sess.answer(offer); err != nil {
			return nil, d.srv.respondError(req, tx, err)
		}
		sdp = ans.SDP
	}
	ack, err := d.awaitACK(d.ctx, tx, d.srv.okSDP(req, sdp, contact), nil)
	if err != nil {
		return nil, fmt.Errorf("re-INVITE: %w", err)
	}
	if len(offer) == 0 {
		if ans, err = ParseAnswer(sdp, ack.Body()); err != nil {
			return nil, fmt.Errorf("answer in ACK: %w", err)
		}
	}
	return &ans, nil
}

// onUpdate answers an UPDATE (RFC 3311): a session refresh without a body,
// or a new offer negotiated like a re-INVITE but without an ACK.
func (d *dialogCore) onUpdate(req *sip.Request, tx sip.ServerTransaction, contact sip.ContactHeader) error {
	if len(req.Body()) == 0 {
		return tx.Respond(d.srv.response(req, 200, "OK", nil))
	}
	ans, err := d.sess.answer(req.Body())
	if err != nil {
		return d.srv.respondError(req, tx, err)
	}
	if err := tx.Respond(d.srv.okSDP(req, ans.SDP, contact)); err != nil {
		return err
	}
	d.pushUpdate(ans)
	return nil
}

// mergeCancel returns a context done when either ctx or other is done,
// with the cause of whichever ended first.
func mergeCancel(ctx, other context.Context) (context.Context, context.CancelFunc) {
	merged, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(other, func() { cancel(context.Cause(other)) })
	return merged, func() { stop(); cancel(context.Canceled) }
}

// newSessionID picks an o= session id when the caller left it zero.
func newSessionID() uint64 { return uint64(rand.Int64N(1<<62) + 1) }
