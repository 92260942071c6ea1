package sip

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const (
	carrierRealm = "carrier.test"
	carrierUser  = "switchboard"
	carrierPass  = "s3cret-carrier"
)

// challenger is a far end that answers the n-th INVITE as script[n] says:
// "401" or "407" challenge (with "-stale" marking the nonce stale), or
// "answer"; any INVITE past the script is a failure.
type challenger struct {
	dialogs chan *sipgo.DialogServerSession // the answered one

	mu      sync.Mutex
	invites []*sip.Request
	acked   int // challenges whose ACK came back
}

func newChallenger(p *peer, script ...string) *challenger {
	c := &challenger{dialogs: make(chan *sipgo.DialogServerSession, 1)}
	answer := answerCall(p)
	p.on(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		n := len(c.invites)
		c.invites = append(c.invites, req)
		c.mu.Unlock()
		if n >= len(script) {
			p.failf("INVITE %d past the script %v", n+1, script)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Unexpected", nil))
			return
		}
		step, stale := strings.CutSuffix(script[n], "-stale")
		if step == "answer" {
			dlg, err := p.uass.ReadInvite(req, tx)
			if err != nil {
				p.failf("far end: %v", err)
				return
			}
			c.dialogs <- dlg
			answer(dlg)
			return
		}
		chal := digest.Challenge{Realm: carrierRealm, Nonce: fmt.Sprintf("nonce-%d", n), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
		res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
		res.AppendHeader(sip.NewHeader("Proxy-Authenticate", chal.String()))
		if step == "401" {
			res = sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
		}
		if err := tx.Respond(res); err != nil {
			p.failf("challenge: %v", err)
			return
		}
		ctx, cancel := peerCtx()
		defer cancel()
		select {
		case <-tx.Acks():
			c.mu.Lock()
			c.acked++
			c.mu.Unlock()
		case <-tx.Done():
		case <-ctx.Done():
		}
	})
	return c
}

// settled waits until every challenge sent was ACKed: a test that ends
// with an ACK still in flight closes the far end under it.
func (c *challenger) settled(t *testing.T, challenges int) {
	t.Helper()
	eventually(t, "the challenges ACKed", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.acked == challenges
	})
}

func challengesIn(script []string) int {
	n := 0
	for _, step := range script {
		if step != "answer" {
			n++
		}
	}
	return n
}

func (c *challenger) got() []*sip.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.invites
}

// checkDigest verifies credentials the way the carrier would.
func checkDigest(method, value, password string) error {
	creds, err := digest.ParseCredentials(value)
	if err != nil {
		return err
	}
	if creds.Username != carrierUser || creds.Realm != carrierRealm {
		return fmt.Errorf("user %q realm %q", creds.Username, creds.Realm)
	}
	chal := &digest.Challenge{Realm: creds.Realm, Nonce: creds.Nonce, Algorithm: creds.Algorithm, Opaque: creds.Opaque}
	if creds.QOP != "" {
		chal.QOP = []string{creds.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{Method: method, URI: creds.URI, Username: creds.Username,
		Password: password, Cnonce: creds.Cnonce, Count: creds.Nc})
	if err != nil {
		return err
	}
	if want.Response != creds.Response {
		return errors.New("wrong digest response")
	}
	return nil
}

// The target or the proxy challenges the INVITE: one answer with the
// outbound credentials, a second only for a stale nonce, and never a loop.
func TestDialAnswersOneChallenge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		creds   bool
		script  []string
		status  int    // 0: the leg is answered
		header  string // the credentials' header on the retries
		metrics string
	}{
		{"proxy challenge", true, []string{"407", "answer"}, 0, "Proxy-Authorization", "answered"},
		{"target challenge", true, []string{"401", "answer"}, 0, "Authorization", "answered"},
		{"credentials refused", true, []string{"407", "407"}, 407, "Proxy-Authorization", "auth_failed"},
		{"stale nonce answered again", true, []string{"407", "407-stale", "answer"}, 0, "Proxy-Authorization", "answered"},
		{"stale twice", true, []string{"401", "401-stale", "401-stale"}, 401, "Authorization", "auth_failed"},
		{"no credentials configured", false, []string{"407"}, 407, "", "auth_failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent := newPeer(t, "udp")
			ch := newChallenger(agent, tc.script...)
			cfg := Config{}
			if tc.creds {
				cfg.OutboundUsername, cfg.OutboundPassword = carrierUser, carrierPass
			}
			s := startServer(t, cfg, nil)
			leg, err := s.Dial(ctxFor(t), DialRequest{Target: targetOf(agent), Local: legLocal, RingTimeout: 5 * time.Second})
			var de *DialError
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("Dial: %v", err)
			case tc.status != 0 && (!errors.As(err, &de) || de.Status != tc.status || !errors.Is(err, ErrDialAuth)):
				t.Fatalf("Dial: %v, %v; want a DialError %d wrapping ErrDialAuth", leg, err, tc.status)
			}
			invites := ch.got()
			if len(invites) != len(tc.script) {
				t.Fatalf("%d INVITEs, want %d", len(invites), len(tc.script))
			}
			ch.settled(t, challengesIn(tc.script))
			if h := invites[0].GetHeader(tc.header); tc.header != "" && h != nil {
				t.Errorf("first INVITE already carries %s", tc.header)
			}
			for i, inv := range invites[1:] {
				h := inv.GetHeader(tc.header)
				if h == nil {
					t.Fatalf("INVITE %d has no %s", i+2, tc.header)
				}
				if err := checkDigest("INVITE", h.Value(), carrierPass); err != nil {
					t.Errorf("INVITE %d credentials: %v", i+2, err)
				}
				if inv.CSeq().SeqNo <= invites[i].CSeq().SeqNo || inv.CallID().Value() != invites[0].CallID().Value() {
					t.Errorf("INVITE %d: CSeq %d after %d, Call-ID %s: not the same call's retry", i+2,
						inv.CSeq().SeqNo, invites[i].CSeq().SeqNo, inv.CallID().Value())
				}
			}
			if n := s.dialsTotal(tc.metrics); n != 1 {
				t.Errorf("dials %s = %v, want 1", tc.metrics, n)
			}
			if leg != nil {
				dlg := recv(t, ch.dialogs, "far end dialog")
				eventually(t, "far end confirmed by our ACK", func() bool { return dlg.LoadState() == sip.DialogStateConfirmed })
				if err := leg.Hangup(ctxFor(t)); err != nil {
					t.Errorf("Hangup: %v", err)
				}
			}
		})
	}
}

// A carrier's proxy (sipp) challenges the bridge INVITE with 407 and
// accepts the retry: the leg is up, and the credentials are right.
func TestSippCarrierChallengesDial(t *testing.T) {
	s := startServer(t, Config{UDP: "127.0.0.1:0", OutboundUsername: carrierUser, OutboundPassword: carrierPass}, nil)
	uas := startSippUAS(t, "bridge_challenge_407.xml")
	leg, err := s.Dial(ctxFor(t), DialRequest{Target: uas.target, From: Party{DisplayName: "Web visitor"}, Local: legLocal, RingTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if ans := leg.Answer(); ans.Codec.Name != "PCMU" {
		t.Errorf("leg answer %+v, want PCMU", ans)
	}
	if err := leg.Hangup(ctxFor(t)); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	trace := uas.wait(t)
	invites := received(trace, "INVITE")
	if len(invites) != 2 {
		t.Fatalf("sipp got %d INVITEs, want 2", len(invites))
	}
	auth := headerIn(invites[1], "Proxy-Authorization")
	if err := checkDigest("INVITE", auth, carrierPass); err != nil {
		t.Errorf("Proxy-Authorization %q: %v", auth, err)
	}
}

// A target (sipp) checks the password itself: the right one gets the leg,
// a wrong one gets a second 401, which ends the Dial: no third INVITE.
func TestSippTargetChecksPassword(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
		status   int
	}{
		{"right password", carrierPass, 0},
		{"wrong password", "not-" + carrierPass, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Config{UDP: "127.0.0.1:0", OutboundUsername: carrierUser, OutboundPassword: tc.password}, nil)
			uas := startSippUAS(t, "bridge_challenge_401.xml")
			leg, err := s.Dial(ctxFor(t), DialRequest{Target: uas.target, Local: legLocal, RingTimeout: 10 * time.Second})
			var de *DialError
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("Dial: %v", err)
			case tc.status == 0:
				if err := leg.Hangup(ctxFor(t)); err != nil {
					t.Fatalf("Hangup: %v", err)
				}
			case !errors.As(err, &de) || de.Status != tc.status || !errors.Is(err, ErrDialAuth) || de.Timeout:
				t.Fatalf("Dial: %v, %v; want a DialError %d wrapping ErrDialAuth", leg, err, tc.status)
			}
			if n := len(received(uas.wait(t), "INVITE")); n != 2 {
				t.Errorf("sipp got %d INVITEs, want 2", n)
			}
		})
	}
}

// Context headers fill most of a datagram. With credentials configured, an
// INVITE over UDP whose challenged retry could not be sent is refused
// before anything goes out, so the caller can drop headers without the
// carrier seeing a failed call.
func TestDialLeavesRoomForCredentials(t *testing.T) {
	full := ContextHeaders(Context{ConversationID: strings.Repeat("c", 32), Reason: "customer_request", Trigger: "explicit_request",
		Summary: strings.Repeat("The customer asked about a refund. ", 3), ConsoleURL: "http://192.0.2.10:8080/agent/conversations"})
	essential := full[:2] // conversation and reason
	for _, tc := range []struct {
		name      string
		transport string
		creds     bool
		hs        []Header
		script    []string // nil: refused before sending
	}{
		{"no room for the retry", "udp", true, full, nil},
		{"no credentials, nothing to make room for", "udp", false, full, []string{"answer"}},
		{"essential headers leave room", "udp", true, essential, []string{"407", "answer"}},
		{"TCP carries it all", "tcp", true, full, []string{"407", "answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent := newPeer(t, tc.transport)
			ch := newChallenger(agent, tc.script...)
			cfg := Config{}
			if tc.creds {
				cfg.OutboundUsername, cfg.OutboundPassword = carrierUser, carrierPass
			}
			s := startServer(t, cfg, nil)
			target := targetOf(agent)
			if tc.transport == "tcp" {
				target += ";transport=tcp"
			}
			leg, err := s.Dial(ctxFor(t), DialRequest{Target: target, Headers: tc.hs, Local: legLocal, RingTimeout: 5 * time.Second})
			if tc.script == nil {
				if !errors.Is(err, ErrUDPTooLarge) || len(ch.got()) != 0 {
					t.Fatalf("Dial: %v, %v, %d INVITEs sent; want ErrUDPTooLarge before sending", leg, err, len(ch.got()))
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if got := ch.got(); len(got) != len(tc.script) || got[len(got)-1].GetHeader(HeaderConversation) == nil {
				t.Errorf("%d INVITEs, want %d with the context headers", len(got), len(tc.script))
			}
			ch.settled(t, challengesIn(tc.script))
			dlg := recv(t, ch.dialogs, "far end dialog")
			eventually(t, "far end confirmed by our ACK", func() bool { return dlg.LoadState() == sip.DialogStateConfirmed })
			if err := leg.Hangup(ctxFor(t)); err != nil {
				t.Errorf("Hangup: %v", err)
			}
		})
	}
}
