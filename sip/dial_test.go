package sip

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// farEnd makes a peer answer INVITEs the way behave says; it reports each
// INVITE and the peer's dialog.
type farEnd struct {
	invites chan *sip.Request
	dialogs chan *sipgo.DialogServerSession
}

func newFarEnd(p *peer, behave func(*sipgo.DialogServerSession)) *farEnd {
	f := &farEnd{invites: make(chan *sip.Request, 2), dialogs: make(chan *sipgo.DialogServerSession, 2)}
	p.on(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := p.uass.ReadInvite(req, tx)
		if err != nil {
			p.failf("far end: %v", err)
			return
		}
		f.invites <- req
		f.dialogs <- dlg
		behave(dlg)
	})
	return f
}

func answerCall(p *peer) func(*sipgo.DialogServerSession) {
	return func(dlg *sipgo.DialogServerSession) {
		if err := dlg.Respond(180, "Ringing", nil); err != nil {
			p.failf("180: %v", err)
		}
		ans, err := Negotiate(dlg.InviteRequest.Body(), Local{Addr: local4.Addr.Next(), Port: 50000, SessionID: 77, SessionVersion: 1})
		if err != nil {
			p.failf("far end negotiate: %v", err)
			return
		}
		if err := dlg.RespondSDP(ans.SDP); err != nil {
			p.failf("200: %v", err)
		}
	}
}

var legLocal = Local{Addr: netip.MustParseAddr("198.51.100.1"), Port: 40002}

// dialFrom sets up a call from caller that the handler answers and then
// bridges to target with Dial.
func dialFrom(t *testing.T, caller *peer, target string, hs []Header, ring time.Duration) (*Call, *Leg, error, *sipgo.DialogClientSession) {
	t.Helper()
	type result struct {
		leg *Leg
		err error
	}
	h := newAnswering()
	results := make(chan result, 1)
	h.after = func(ctx context.Context, c *Call) {
		leg, err := c.Dial(ctx, target, hs, legLocal, ring)
		results <- result{leg, err}
	}
	s := startServer(t, Config{}, h)
	dlg, err := caller.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), from: "+15551234567", sdp: readOffer(t, "twilio.sdp")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dlg.Bye(ctxFor(t)) })
	r := recv(t, results, "Dial")
	return recv(t, h.calls, "call"), r.leg, r.err, dlg
}

func targetOf(p *peer) string { return "sip:+15559990000@" + p.addr }

func TestDialAnsweredThenHangups(t *testing.T) {
	for _, who := range []string{"we hang up", "far end hangs up"} {
		t.Run(who, func(t *testing.T) {
			caller, agent := newPeer(t, "udp"), newPeer(t, "udp")
			far := newFarEnd(agent, answerCall(agent))
			hs := ContextHeaders(Context{ConversationID: "conv-7", Reason: "frustration", Summary: "Angry about billing"})
			c, leg, err, _ := dialFrom(t, caller, targetOf(agent), hs, 5*time.Second)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			inv := recv(t, far.invites, "INVITE at the far end")
			if inv.From().Address.User != "+15551234567" {
				t.Errorf("From %s, want the caller", inv.From().Value())
			}
			for _, h := range hs {
				if got := inv.GetHeader(h.Name); got == nil || got.Value() != h.Value {
					t.Errorf("%s = %v, want %q", h.Name, got, h.Value)
				}
			}
			if body := string(inv.Body()); !strings.Contains(body, "telephone-event/8000") || !strings.Contains(body, "m=audio 40002 RTP/AVP 9 0 8 101") {
				t.Errorf("offer:\n%s", body)
			}
			ans := leg.Answer()
			if ans.Codec.Name != "G722" || ans.RemoteAddr.Port() != 50000 || ans.DTMF != 101 || ans.Direction != "sendrecv" {
				t.Errorf("leg answer %+v", ans)
			}
			dlg := recv(t, far.dialogs, "far end dialog")
			// Our ACK reaches the far end before anything else happens.
			eventually(t, "far end confirmed by our ACK", func() bool { return dlg.LoadState() == sip.DialogStateConfirmed })
			if who == "we hang up" {
				if err := leg.Hangup(ctxFor(t)); err != nil {
					t.Fatalf("leg Hangup: %v", err)
				}
				waitDone(t, dlg.Context().Done(), "far end dialog")
				if !errors.Is(leg.Err(), ErrHangup) {
					t.Errorf("leg Err = %v", leg.Err())
				}
			} else {
				if err := dlg.Bye(ctxFor(t)); err != nil {
					t.Fatalf("far end BYE: %v", err)
				}
				waitDone(t, leg.Done(), "leg")
				if !errors.Is(leg.Err(), ErrRemoteHangup) {
					t.Errorf("leg Err = %v", leg.Err())
				}
			}
			if c.ended() {
				t.Errorf("call ended with its leg: %v", c.Err())
			}
		})
	}
}

func TestDialBusy(t *testing.T) {
	caller, agent := newPeer(t, "udp"), newPeer(t, "udp")
	newFarEnd(agent, func(dlg *sipgo.DialogServerSession) { _ = dlg.Respond(486, "Busy Here", nil) })
	c, leg, err, _ := dialFrom(t, caller, targetOf(agent), nil, 5*time.Second)
	var de *DialError
	if leg != nil || !errors.As(err, &de) || de.Status != 486 || de.Timeout {
		t.Fatalf("Dial: %v %v, want DialError{486}", leg, err)
	}
	if c.ended() {
		t.Errorf("call ended after a busy leg: %v", c.Err())
	}
}

func TestDialRingTimeoutCancels(t *testing.T) {
	caller, agent := newPeer(t, "udp"), newPeer(t, "udp")
	canceled := make(chan error, 1)
	newFarEnd(agent, func(dlg *sipgo.DialogServerSession) {
		_ = dlg.Respond(180, "Ringing", nil)
		<-dlg.Context().Done()
		canceled <- context.Cause(dlg.Context())
	})
	_, leg, err, _ := dialFrom(t, caller, targetOf(agent), nil, 200*time.Millisecond)
	var de *DialError
	if leg != nil || !errors.As(err, &de) || !de.Timeout || (de.Status != 487 && de.Status != 408) {
		t.Fatalf("Dial: %v %v, want DialError{487, Timeout}", leg, err)
	}
	if cause := recv(t, canceled, "CANCEL at the far end"); !errors.Is(cause, sip.ErrTransactionCanceled) {
		t.Fatalf("far end ended with %v, want a CANCEL", cause)
	}
}

func TestDialRejectsBadHeaders(t *testing.T) {
	caller := newPeer(t, "udp")
	_, _, err, _ := dialFrom(t, caller, "sip:x@127.0.0.1:9", []Header{{Name: "Via", Value: "SIP/2.0/UDP evil"}}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "set by the dialog") {
		t.Fatalf("Dial with a Via header: %v, want refused", err)
	}
}

// TestLegReinviteHold: the agent's phone puts the bridged leg on hold.
func TestLegReinviteHold(t *testing.T) {
	caller, agent := newPeer(t, "udp"), newPeer(t, "udp")
	far := newFarEnd(agent, answerCall(agent))
	_, leg, err, _ := dialFrom(t, caller, targetOf(agent), nil, 5*time.Second)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	dlg := recv(t, far.dialogs, "far end dialog")
	eventually(t, "far end confirmed", func() bool { return dlg.LoadState() == sip.DialogStateConfirmed })
	us := *dlg.InviteRequest.Contact().Address.Clone()
	hold := strings.Replace(string(dlg.InviteResponse.Body()), "a=sendrecv", "a=sendonly", 1)
	req := sip.NewRequest(sip.INVITE, us)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(hold))
	res, err := dlg.Do(ctxFor(t), req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE to the leg: %v %v", res, err)
	}
	if err := dlg.WriteRequest(sip.NewRequest(sip.ACK, us)); err != nil {
		t.Fatal(err)
	}
	if up := recv(t, leg.Updates(), "leg update"); up.Direction != "recvonly" {
		t.Errorf("leg direction %q, want recvonly", up.Direction)
	}
	if o := origin(t, res.Body()); o.SessionVersion != 1 {
		// Our offer was version 0 (local.SessionVersion); the changed answer moves it once.
		t.Errorf("o= version %d, want 1", o.SessionVersion)
	}
	if err := leg.Hangup(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
}
