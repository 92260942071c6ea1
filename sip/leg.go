package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Leg is an outbound call placed by Dial. Its methods are safe for
// concurrent use.
type Leg struct {
	dialogCore
	dlg     *sipgo.DialogClientSession
	owner   *Call // the inbound call it was dialed for; nil for Server.Dial
	key     string
	answer  Answer
	contact sip.ContactHeader

	endOnce  sync.Once
	stopTied func() bool // stops the hang-up tied to Dial's ctx
	over     bool        // end ran

	mu     sync.Mutex
	byed   bool    // a BYE was sent or received
	target sip.Uri // the remote's Contact, refreshed by re-INVITE
}

// legSetup is what newLeg needs from Dial.
type legSetup struct {
	dlg       *sipgo.DialogClientSession
	owner     *Call
	transport string
	local     Local
	offer     []byte
	log       *slog.Logger
}

// newLeg parses the answer, ACKs it and registers the leg. An unusable
// answer is ACKed and hung up (RFC 3261 §13.2.2.4 leaves no other way out).
// The leg is hung up when ctx ends.
func (s *Server) newLeg(ctx context.Context, ls legSetup) (*Leg, error) {
	dlg := ls.dlg
	res := dlg.InviteResponse
	ans, perr := ParseAnswer(ls.offer, res.Body())
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
		dialogCore: newDialogCore(s, ls.log, ls.transport),
		dlg:        dlg, owner: ls.owner, answer: ans,
		key:      dialogKey(callID(res), ours, theirs),
		contact:  s.net.contact(ls.transport, dlg.InviteRequest.Recipient.Scheme == "sips"),
		target:   dlg.InviteRequest.Recipient,
		stopTied: func() bool { return false },
	}
	if ct := res.Contact(); ct != nil {
		l.target = *ct.Address.Clone()
	}
	l.sess.init(ls.local, ls.offer)
	// Adopted before it can take requests, so whatever ends it (the
	// remote's BYE included) finds it in the books.
	if err := l.adopt(); err != nil {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
		defer cancel()
		_ = l.Hangup(bctx)
		return nil, fmt.Errorf("dial: %w", err)
	}
	s.register(l.key, l)
	l.tie(ctx)
	return l, nil
}

// adopt hands the leg to whoever must hang it up if its owner does not:
// the server's shutdown and, for Call.Dial, the call's end. An error
// leaves the leg to be hung up at once.
func (l *Leg) adopt() error {
	s := l.srv
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		return fmt.Errorf("%w while the leg was answered", ErrServerClosed)
	}
	s.legs[l] = struct{}{}
	s.legWG.Add(1)
	s.mu.Unlock()
	if l.owner != nil && !l.owner.addLeg(l) {
		return fmt.Errorf("%w: call ended while the leg was answered: %w", ErrCallState, l.owner.Err())
	}
	return nil
}

// tie hangs the leg up when ctx, Dial's context, ends first.
func (l *Leg) tie(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
		defer cancel()
		if err := l.Hangup(hctx); err != nil {
			l.log.Info("sip leg hangup", "err", err)
		}
	})
	l.mu.Lock()
	over := l.over
	if !over {
		l.stopTied = stop
	}
	l.mu.Unlock()
	if over {
		stop()
	}
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

// end ends the leg and drops it from the books, once.
func (l *Leg) end(cause error) {
	l.cancel(cause)
	l.endOnce.Do(func() {
		l.mu.Lock()
		stop := l.stopTied
		l.over = true
		l.mu.Unlock()
		stop()
		l.srv.unregister(l.key)
		if l.owner != nil {
			l.owner.removeLeg(l)
		}
		l.srv.dropLeg(l)
	})
}

// handleInDialog takes the remote's requests on the leg.
func (l *Leg) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if !l.fromPeer(req) {
		if !req.IsAck() {
			l.srv.refuse(req, tx, verdict{status: 403, reason: rejectInDialogSource, detail: "in-dialog request from outside the leg's far end"})
		}
		return
	}
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

// dropLeg forgets an ended leg.
func (s *Server) dropLeg(l *Leg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.legs[l]; ok {
		delete(s.legs, l)
		s.legWG.Done()
	}
}

// hangupLegs ends the legs still up at shutdown and waits until every
// BYE, ours or one already under way, is done with.
func (s *Server) hangupLegs() {
	s.mu.Lock()
	legs := make([]*Leg, 0, len(s.legs))
	for l := range s.legs {
		legs = append(legs, l)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), hangupTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, l := range legs {
		wg.Go(func() {
			if err := l.Hangup(ctx); err != nil {
				l.log.Info("sip leg hangup", "err", err)
			}
		})
	}
	wg.Wait()
	s.legWG.Wait()
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

// fromPeer reports whether an in-dialog request comes from the far end the
// leg reached: where its 2xx came from, or a host its Contact or
// Record-Route names. The dialog's tags alone prove nothing (Call.fromPeer).
func (l *Leg) fromPeer(req *sip.Request) bool {
	src := sourceAddr(req).Addr()
	res := l.dlg.InviteResponse
	if !src.IsValid() || res == nil {
		return false
	}
	if src == sourceAddr(res).Addr() {
		return true
	}
	hosts := []string{}
	if c := res.Contact(); c != nil {
		hosts = append(hosts, c.Address.Host)
	}
	for _, h := range res.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			hosts = append(hosts, rr.Address.Host)
		}
	}
	return namedIn(src, hosts)
}

// namedIn reports whether src is one of hosts written as IP literals (a
// Contact's or Record-Route's host; names are not resolved).
func namedIn(src netip.Addr, hosts []string) bool {
	for _, h := range hosts {
		if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil && a.Unmap() == src {
			return true
		}
	}
	return false
}
