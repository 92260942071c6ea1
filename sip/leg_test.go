package sip

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// dialAnswered places a server-level call to a far end that answers, and
// waits until the far end has our ACK.
func dialAnswered(t *testing.T, s *testServer, ctx context.Context) (*Leg, *sipgo.DialogServerSession) {
	t.Helper()
	agent := newPeer(t, "udp")
	far := newFarEnd(agent, answerCall(agent))
	leg, err := s.Dial(ctx, DialRequest{Target: targetOf(agent), Local: legLocal, RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	dlg := recv(t, far.dialogs, "far end dialog")
	eventually(t, "far end confirmed by our ACK", func() bool { return dlg.LoadState() == sip.DialogStateConfirmed })
	return leg, dlg
}

// A leg nobody hangs up still ends: with the context it was dialed with
// (a browser call's), or with the server.
func TestLegEndsWithItsOwner(t *testing.T) {
	for _, tc := range []struct {
		name    string
		end     func(s *testServer, cancel context.CancelFunc)
		wantErr error
	}{
		{"dial context ends", func(_ *testServer, cancel context.CancelFunc) { cancel() }, ErrHangup},
		{"server shuts down", func(s *testServer, _ context.CancelFunc) { s.stop() }, ErrServerClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Config{}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			leg, dlg := dialAnswered(t, s, ctx)
			tc.end(s, cancel)
			waitDone(t, dlg.Context().Done(), "far end dialog (our BYE)")
			if dlg.LoadState() != sip.DialogStateEnded {
				t.Errorf("far end dialog state %v, want ended by BYE", dlg.LoadState())
			}
			waitDone(t, leg.Done(), "leg")
			if !errors.Is(leg.Err(), tc.wantErr) {
				t.Errorf("leg Err = %v, want %v", leg.Err(), tc.wantErr)
			}
		})
	}
}

// A leg dialed for an inbound call is hung up when that call ends, even
// when the context it was dialed with lives on.
func TestCallEndHangsUpItsLeg(t *testing.T) {
	caller, agent := newPeer(t, "udp"), newPeer(t, "udp")
	far := newFarEnd(agent, answerCall(agent))
	h := newAnswering()
	legs := make(chan *Leg, 1)
	h.after = func(_ context.Context, c *Call) {
		leg, err := c.Dial(context.Background(), DialRequest{Target: targetOf(agent), Local: legLocal, RingTimeout: 5 * time.Second})
		if err != nil {
			t.Errorf("Dial: %v", err)
		}
		legs <- leg
	}
	s := startServer(t, Config{}, h)
	dlg, err := caller.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), from: "+15551234567", sdp: readOffer(t, "twilio.sdp")})
	if err != nil {
		t.Fatal(err)
	}
	leg := recv(t, legs, "leg")
	if leg == nil {
		t.FailNow()
	}
	farDlg := recv(t, far.dialogs, "far end dialog")
	eventually(t, "far end confirmed by our ACK", func() bool { return farDlg.LoadState() == sip.DialogStateConfirmed })
	if err := dlg.Bye(ctxFor(t)); err != nil {
		t.Fatalf("caller BYE: %v", err)
	}
	waitDone(t, farDlg.Context().Done(), "far end dialog (our BYE)")
	waitDone(t, leg.Done(), "leg")
}

// Shutdown does not wait for a phone that rings: the INVITE is canceled and
// Dial says why.
func TestServerCloseCancelsRingingDial(t *testing.T) {
	agent := newPeer(t, "udp")
	acked := make(chan bool, 1) // the 487 after the CANCEL was ACKed
	agent.on(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 180, "Ringing", nil))
		ctx, cancel := peerCtx()
		defer cancel()
		select {
		case <-tx.Acks():
			acked <- true
		case <-ctx.Done():
			acked <- false
		}
	})
	s := startServer(t, Config{}, nil)
	ringing := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		ctx := WithSent(context.Background(), func() { close(ringing) })
		_, err := s.Dial(ctx, DialRequest{Target: targetOf(agent), Local: legLocal})
		errc <- err
	}()
	<-ringing
	s.stop()
	err := recv(t, errc, "Dial")
	if !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Dial: %v, want ErrServerClosed", err)
	}
	// Only a CANCEL gets the far end's INVITE a 487, and only then an ACK.
	if !recv(t, acked, "the far end's 487 ACKed") {
		t.Fatal("the far end's INVITE was never canceled")
	}
	if _, err := s.Dial(ctxFor(t), DialRequest{Target: targetOf(agent), Local: legLocal}); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Dial after shutdown: %v, want ErrServerClosed", err)
	}
}
