package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// transferee scripts the peer's side of a REFER: the response to the
// REFER, then one NOTIFY per sipfrag, the last one terminating the
// subscription. It reports the REFER, and closes done when the script ran.
func transferee(p *peer, status int, frags ...string) (refers <-chan *sip.Request, done <-chan struct{}) {
	got, finished := make(chan *sip.Request, 1), make(chan struct{})
	p.on(sip.REFER, func(req *sip.Request, tx sip.ServerTransaction) {
		defer close(finished)
		got <- req
		if err := tx.Respond(sip.NewResponseFromRequest(req, status, reasonPhrase(status), nil)); err != nil || status >= 300 {
			return
		}
		dlg, err := p.uacs.MatchRequestDialog(req)
		if err != nil {
			p.failf("REFER outside the peer's dialog: %v", err)
			return
		}
		ctx, cancel := peerCtx()
		defer cancel()
		for i, frag := range frags {
			state := "active;expires=60"
			if i == len(frags)-1 {
				state = "terminated;reason=noresource"
			}
			res, err := inDialog(ctx, dlg, sip.NOTIFY, []byte(frag),
				sip.NewHeader("Event", fmt.Sprintf("refer;id=%d", req.CSeq().SeqNo)),
				sip.NewHeader("Subscription-State", state),
				sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
			if err != nil || res.StatusCode != 200 {
				p.failf("NOTIFY %q: %v %v, want 200", frag, res, err)
			}
		}
	})
	return got, finished
}

// referCall sets up a call from p that the handler answers and then
// transfers with Refer; it returns the call, the peer's dialog and
// Refer's result.
func referCall(t *testing.T, s func(*answering) *testServer, p *peer, ctx context.Context, hs []Header) (*Call, <-chan error, func()) {
	t.Helper()
	h := newAnswering()
	results := make(chan error, 1)
	h.after = func(cctx context.Context, c *Call) { results <- c.Refer(ctx, "sip:agents@192.0.2.99", hs) }
	srv := s(h)
	dlg, err := p.invite(ctxFor(t), call{to: srv.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp")})
	if err != nil {
		t.Fatal(err)
	}
	return recv(t, h.calls, "call"), results, func() { waitDone(t, dlg.Context().Done(), "peer dialog") }
}

func TestReferSuccess(t *testing.T) {
	p := newPeer(t, "udp")
	refers, notified := transferee(p, 202, "SIP/2.0 100 Trying\r\n", "SIP/2.0 200 OK\r\n")
	var srv *testServer
	hs := ContextHeaders(Context{ConversationID: "conv-42", Reason: "customer_request", Summary: "Wants a refund; order #123"})
	c, result, _ := referCall(t, func(h *answering) *testServer { srv = startServer(t, Config{}, h); return srv }, p, ctxFor(t), hs)
	if err := recv(t, result, "Refer"); err != nil {
		t.Fatalf("Refer: %v", err)
	}
	recv(t, notified, "the peer's NOTIFYs answered")
	req := recv(t, refers, "REFER at the peer")
	referTo := req.ReferTo()
	if referTo == nil {
		t.Fatal("REFER without Refer-To")
	}
	if referTo.Address.User != "agents" || referTo.Address.Host != "192.0.2.99" {
		t.Errorf("Refer-To %s, want sip:agents@192.0.2.99", referTo.Value())
	}
	raw := req.GetHeader("Refer-To").Value()
	for _, want := range []string{"X-Switchboard-Conversation=conv-42", "X-Switchboard-Reason=customer_request", "X-Switchboard-Summary=Wants%20a%20refund%3B%20order%20%23123", "User-to-User="} {
		if !strings.Contains(raw, want) {
			t.Errorf("Refer-To %s lacks %s", raw, want)
		}
	}
	if rb := req.GetHeader("Referred-By"); rb == nil || !strings.Contains(rb.Value(), "sip:switchboard@127.0.0.1") {
		t.Errorf("Referred-By %v, want our identity", rb)
	}
	if c.ended() {
		t.Fatalf("call ended by Refer: %v", c.Err())
	}
	if got := referCount(srv, "accepted"); got != 1 {
		t.Errorf("refers_total{accepted} = %v, want 1", got)
	}
	if err := c.Hangup(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
}

func referCount(s *testServer, result string) float64 {
	return toFloat(s.metrics.refers.WithLabelValues(result))
}

// TestReferRejectedKeepsCall: a trunk refusing REFER must never cost the
// call; it stays up and hangs up normally afterwards.
func TestReferRejectedKeepsCall(t *testing.T) {
	for _, status := range []int{603, 405, 501} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			p := newPeer(t, "udp")
			_, done := transferee(p, status)
			c, result, peerEnded := referCall(t, func(h *answering) *testServer { return startServer(t, Config{}, h) }, p, ctxFor(t), nil)
			var re *ReferError
			if err := recv(t, result, "Refer"); !errors.As(err, &re) || re.Stage != ReferStageRefer || re.Status != status {
				t.Fatalf("Refer: %v, want ReferError{refer, %d}", err, status)
			}
			recv(t, done, "transferee")
			if c.ended() {
				t.Fatalf("call ended after a refused REFER: %v", c.Err())
			}
			if err := c.Hangup(ctxFor(t)); err != nil {
				t.Fatalf("Hangup after refused REFER: %v", err)
			}
			peerEnded()
		})
	}
}

func TestReferNotifyFailure(t *testing.T) {
	p := newPeer(t, "udp")
	_, done := transferee(p, 202, "SIP/2.0 100 Trying\r\n", "SIP/2.0 503 Service Unavailable\r\n")
	c, result, peerEnded := referCall(t, func(h *answering) *testServer { return startServer(t, Config{}, h) }, p, ctxFor(t), nil)
	var re *ReferError
	if err := recv(t, result, "Refer"); !errors.As(err, &re) || re.Stage != ReferStageNotify || re.Status != 503 {
		t.Fatalf("Refer: %v, want ReferError{notify, 503}", err)
	}
	recv(t, done, "transferee")
	if c.ended() {
		t.Fatalf("call ended after a failed transfer: %v", c.Err())
	}
	if err := c.Hangup(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	peerEnded()
}

func TestReferTimesOutWithoutNotify(t *testing.T) {
	p := newPeer(t, "udp")
	transferee(p, 202) // accepted, never notified
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c, result, _ := referCall(t, func(h *answering) *testServer { return startServer(t, Config{}, h) }, p, ctx, nil)
	if err := recv(t, result, "Refer"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Refer: %v, want deadline exceeded", err)
	}
	if c.ended() {
		t.Fatalf("call ended after a refer timeout: %v", c.Err())
	}
	if err := c.Hangup(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
}

func TestParseSipfrag(t *testing.T) {
	tests := []struct {
		in     string
		status int
		reason string
		bad    bool
	}{
		{in: "SIP/2.0 200 OK\r\n", status: 200, reason: "OK"},
		{in: "SIP/2.0 100 Trying", status: 100, reason: "Trying"},
		{in: "SIP/2.0 503 Service Unavailable\r\nRetry-After: 5\r\n", status: 503, reason: "Service Unavailable"},
		{in: "sip/2.0 180\n", status: 180},
		{in: "INVITE sip:a@b SIP/2.0\r\n", bad: true},
		{in: "SIP/2.0 99 Low\r\n", bad: true},
		{in: "SIP/2.0 2000 OK\r\n", bad: true},
		{in: "", bad: true},
		{in: "SIP/2.0 " + strings.Repeat("9", 5000), bad: true},
	}
	for _, tt := range tests {
		status, reason, err := ParseSipfrag([]byte(tt.in))
		if tt.bad != (err != nil) || status != tt.status || reason != tt.reason {
			t.Errorf("ParseSipfrag(%.30q) = %d %q %v", tt.in, status, reason, err)
		}
	}
}

func FuzzParseSipfrag(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzParseSipfrag.
	f.Fuzz(func(t *testing.T, body []byte) {
		status, reason, err := ParseSipfrag(body)
		if err != nil {
			return
		}
		if status < 100 || status > 699 {
			t.Fatalf("status %d out of range", status)
		}
		if quotable(reason) != reason {
			t.Fatalf("reason %q is not header-safe", reason)
		}
	})
}

// TestReferTooLargeForUDPKeepsCall: context headers that outgrow a UDP
// datagram fail the REFER with ErrUDPTooLarge, and the call stays up.
func TestReferTooLargeForUDPKeepsCall(t *testing.T) {
	p := newPeer(t, "udp")
	transferee(p, 202, "SIP/2.0 200 OK\r\n")
	hs := ContextHeaders(Context{ConversationID: strings.Repeat("ü", 60), Reason: "customer_request",
		Summary: strings.Repeat("é", 100), ConsoleURL: "https://" + strings.Repeat("x", 480)})
	c, result, _ := referCall(t, func(h *answering) *testServer { return startServer(t, Config{}, h) }, p, ctxFor(t), hs)
	if err := recv(t, result, "Refer"); !errors.Is(err, ErrUDPTooLarge) {
		t.Fatalf("Refer: %v, want ErrUDPTooLarge", err)
	}
	if c.ended() {
		t.Fatalf("call ended: %v", c.Err())
	}
	if err := c.Hangup(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
}

// A carrier that challenges our REFER (407) gets it again with the call's
// trunk's credentials, and the transfer goes on; a second challenge is an
// answer, not a loop.
func TestReferAnswersADigestChallenge(t *testing.T) {
	trunk := Trunk{Name: "carrier", Allow: loopback[0].Allow, Username: "switchboard", Password: "s3cret"}
	for _, tc := range []struct {
		name     string
		password string // what the carrier expects
		wantErr  bool
	}{
		{"right credentials", "s3cret", false},
		{"refused again", "other", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, "udp")
			chal := digest.Challenge{Realm: "carrier.example", Nonce: "n0nce", Algorithm: "MD5", QOP: []string{"auth"}}
			var refers atomic.Int32
			p.on(sip.REFER, func(req *sip.Request, tx sip.ServerTransaction) {
				refers.Add(1)
				h := req.GetHeader("Proxy-Authorization")
				if h == nil || !rightAnswer(h.Value(), &chal, req, "switchboard", tc.password) {
					res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
					res.AppendHeader(sip.NewHeader("Proxy-Authenticate", chal.String()))
					_ = tx.Respond(res)
					return
				}
				_ = tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
				dlg, err := p.uacs.MatchRequestDialog(req)
				if err != nil {
					p.failf("REFER outside the dialog: %v", err)
					return
				}
				ctx, cancel := peerCtx()
				defer cancel()
				_, _ = inDialog(ctx, dlg, sip.NOTIFY, []byte("SIP/2.0 200 OK\r\n"),
					sip.NewHeader("Event", fmt.Sprintf("refer;id=%d", req.CSeq().SeqNo)),
					sip.NewHeader("Subscription-State", "terminated;reason=noresource"),
					sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
			})
			_, result, _ := referCall(t, func(h *answering) *testServer {
				return startServer(t, Config{Trunks: []Trunk{trunk}}, h)
			}, p, ctxFor(t), nil)
			err := recv(t, result, "Refer")
			var re *ReferError
			switch {
			case !tc.wantErr && err != nil:
				t.Fatalf("Refer: %v", err)
			case tc.wantErr && (!errors.As(err, &re) || re.Status != 407):
				t.Fatalf("Refer: %v, want the second 407", err)
			}
			if refers.Load() != 2 {
				t.Errorf("%d REFERs, want the first and one answer to the challenge", refers.Load())
			}
		})
	}
}

// rightAnswer checks a digest answer as the carrier would.
func rightAnswer(value string, chal *digest.Challenge, req *sip.Request, user, pass string) bool {
	creds, err := digest.ParseCredentials(value)
	if err != nil || creds.Username != user {
		return false
	}
	want, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: creds.URI, Username: user,
		Password: pass, Cnonce: creds.Cnonce, Count: creds.Nc})
	return err == nil && want.Response == creds.Response
}
