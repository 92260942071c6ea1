package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
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
		leg, err := c.Dial(ctx, DialRequest{Target: target, Headers: hs, Local: legLocal, RingTimeout: ring})
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

// A call with no SIP caller (a browser visitor's) dials by itself: From is
// the configured identity, or the number it names, with the display name
// it gives.
func TestServerDialWithoutInboundCall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		identity string
		from     Party
		want     string // From's display name, user and host
	}{
		{"visitor, default identity", "", Party{DisplayName: "Web visitor Jane"}, `"Web visitor Jane" switchboard@127.0.0.1`},
		{"visitor, configured identity", "sip:+15550100@carrier.test;user=phone", Party{DisplayName: `Jane "J" \ Doe`},
			`"Jane J Doe" +15550100@carrier.test`},
		{"no name at all", "sip:+15550100@carrier.test", Party{}, `"" +15550100@carrier.test`},
		{"a number of our own", "", Party{User: "+15551234567"}, `"" +15551234567@127.0.0.1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent := newPeer(t, "udp")
			far := newFarEnd(agent, answerCall(agent))
			s := startServer(t, Config{Identity: tc.identity}, nil)
			hs := []Header{{Name: "X-Switchboard-Conversation", Value: "conv-9"}}
			leg, err := s.Dial(ctxFor(t), DialRequest{Target: targetOf(agent), From: tc.from, Headers: hs, Local: legLocal, RingTimeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			inv := recv(t, far.invites, "INVITE at the far end")
			from := inv.From()
			if got := fmt.Sprintf("%q %s@%s", from.DisplayName, from.Address.User, from.Address.Host); got != tc.want {
				t.Errorf("From %s, want %s", got, tc.want)
			}
			if _, ok := from.Params.Get("user"); ok || from.Address.UriParams.Has("user") {
				t.Errorf("From %s carries the identity's parameters", from.Value())
			}
			if h := inv.GetHeader("X-Switchboard-Conversation"); h == nil || h.Value() != "conv-9" {
				t.Errorf("context header %v", h)
			}
			if ans := leg.Answer(); ans.Codec.Name != "G722" || ans.RemoteAddr.Port() != 50000 {
				t.Errorf("leg answer %+v", ans)
			}
			if n := s.dialsTotal("answered"); n != 1 {
				t.Errorf("dials answered = %v, want 1", n)
			}
			dlg := recv(t, far.dialogs, "far end dialog")
			eventually(t, "far end confirmed by our ACK", func() bool { return dlg.LoadState() == sip.DialogStateConfirmed })
			if err := leg.Hangup(ctxFor(t)); err != nil {
				t.Fatalf("Hangup: %v", err)
			}
			waitDone(t, dlg.Context().Done(), "far end dialog")
		})
	}
}

// What Dial is given goes into headers only when it stays one header;
// nothing goes out otherwise.
func TestServerDialRefusesBadInput(t *testing.T) {
	agent := newPeer(t, "udp")
	far := newFarEnd(agent, answerCall(agent))
	s := startServer(t, Config{}, nil)
	for _, tc := range []struct {
		name string
		req  DialRequest
		want string
	}{
		{"user with a space", DialRequest{From: Party{User: "+1555 123"}}, "not allowed in a SIP user part"},
		{"user closing the URI", DialRequest{From: Party{User: "a>b"}}, "not allowed in a SIP user part"},
		{"a header of the dialog's", DialRequest{Headers: []Header{{Name: "Contact", Value: "<sip:x@evil>"}}}, "set by the dialog"},
		{"credentials of our own", DialRequest{Headers: []Header{{Name: "Proxy-Authorization", Value: "Digest x"}}}, "set by the dialog"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Target, tc.req.Local = targetOf(agent), legLocal
			leg, err := s.Dial(ctxFor(t), tc.req)
			if leg != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Dial: %v, %v; want an error saying %q", leg, err, tc.want)
			}
		})
	}
	if len(far.invites) != 0 {
		t.Errorf("%d INVITEs went out", len(far.invites))
	}
	if _, err := NewServer(Config{UDP: "127.0.0.1:0", Identity: "tel:+15550100", Trunks: loopback}, HandlerFunc(func(context.Context, *Call) {}), prometheus.NewRegistry(), quiet); err == nil {
		t.Error("NewServer took a tel: identity, which cannot be a From of ours")
	}
}

// A BYE in a leg's dialog from outside its far end is refused and the leg
// goes on; the far end's own BYE ends it.
func TestLegRefusesInDialogRequestsFromElsewhere(t *testing.T) {
	caller, agent := newPeer(t, "udp"), newPeer(t, "udp")
	far := newFarEnd(agent, answerCall(agent))
	c, leg, err, _ := dialFrom(t, caller, targetOf(agent), nil, 5*time.Second)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	inv := recv(t, far.invites, "INVITE at the far end")
	dlg := recv(t, far.dialogs, "far end dialog")
	eventually(t, "far end confirmed by our ACK", func() bool { return dlg.LoadState() == sip.DialogStateConfirmed })

	if got := spoofedBye(t, c.srv.Addr("udp"), inv.Contact().Address.String(), dlg.InviteResponse.To().Value(),
		inv.From().Value(), inv.CallID().Value(), 900); !strings.HasPrefix(got, "SIP/2.0 403") {
		t.Fatalf("spoofed BYE answered %q; want 403", got)
	}
	select {
	case <-leg.Done():
		t.Fatalf("the spoofed BYE ended the leg: %v", leg.Err())
	default:
	}
	if err := dlg.Bye(ctxFor(t)); err != nil {
		t.Fatalf("far end BYE: %v", err)
	}
	waitDone(t, leg.Done(), "leg")
	if !errors.Is(leg.Err(), ErrRemoteHangup) {
		t.Errorf("leg Err = %v", leg.Err())
	}
}
