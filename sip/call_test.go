package sip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
)

func TestCallAnsweredThenRemoteBye(t *testing.T) {
	for _, tp := range []string{"udp", "tcp"} {
		t.Run(tp, func(t *testing.T) {
			// The handler answers only once the peer has seen 100 Trying,
			// which proves it goes out before the handler does anything.
			trying := make(chan struct{})
			h := newAnswering()
			h.before = func() { recv(t, trying, "100 Trying at the peer") }
			s := startServer(t, Config{}, h)
			p := newPeer(t, tp)
			var once sync.Once
			dlg, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", tp), from: "+15551234567",
				sdp: readOffer(t, "twilio.sdp"), onResp: func(r *sip.Response) {
					if r.StatusCode == 100 {
						once.Do(func() { close(trying) })
					}
				}})
			if err != nil {
				t.Fatalf("INVITE: %v", err)
			}
			c := recv(t, h.calls, "call")
			r := recv(t, h.answers, "answer")
			if r.err != nil {
				t.Fatalf("Answer: %v", r.err)
			}
			if c.From() != "+15551234567" || c.To() != "+15550100" || c.Transport() != strings.ToUpper(tp) {
				t.Errorf("From %q To %q Transport %q", c.From(), c.To(), c.Transport())
			}
			if r.ans.Codec.Name != "PCMU" || r.ans.RemoteAddr.String() != "54.172.60.1:16970" {
				t.Errorf("answer %+v", r.ans)
			}
			if body := string(dlg.InviteResponse.Body()); !strings.Contains(body, "m=audio 40000 RTP/AVP 0 101") {
				t.Errorf("200 OK SDP:\n%s", body)
			}
			if dlg.InviteResponse.Contact() == nil {
				t.Error("200 OK without Contact")
			}
			if err := dlg.Bye(ctxFor(t)); err != nil {
				t.Fatalf("BYE: %v", err)
			}
			waitDone(t, c.Done(), "call")
			if !errors.Is(c.Err(), ErrRemoteHangup) {
				t.Errorf("Err = %v, want ErrRemoteHangup", c.Err())
			}
			eventually(t, "calls_total{answered}", func() bool { return s.callsTotal(resultAnswered) == 1 })
		})
	}
}

func TestCallAnsweredThenOurHangup(t *testing.T) {
	h := newAnswering()
	hungUp := make(chan error, 1)
	h.after = func(ctx context.Context, c *Call) { hungUp <- c.Hangup(ctx) }
	s := startServer(t, Config{}, h)
	p := newPeer(t, "udp")
	dlg, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp")})
	if err != nil {
		t.Fatal(err)
	}
	if err := recv(t, hungUp, "Hangup"); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	c := recv(t, h.calls, "call")
	if !errors.Is(c.Err(), ErrHangup) {
		t.Errorf("Err = %v, want ErrHangup", c.Err())
	}
	waitDone(t, dlg.Context().Done(), "peer's dialog (our BYE)")
}

func TestNegotiationFailureAnswersWithWarning(t *testing.T) {
	tests := []struct {
		offer   string
		status  int
		warning string
		cause   error
	}{
		{"no_common_codec.sdp", 488, `305 switchboard "Incompatible media format`, ErrNoCommonCodec},
		{"garbage.sdp", 400, "399 switchboard", ErrSDPMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.offer, func(t *testing.T) {
			h := newAnswering()
			s := startServer(t, Config{}, h)
			p := newPeer(t, "udp")
			var warning string
			_, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, tt.offer),
				onResp: func(r *sip.Response) {
					if w := r.GetHeader("Warning"); w != nil {
						warning = w.Value()
					}
				}})
			if !isStatus(err, tt.status) {
				t.Fatalf("INVITE: %v, want %d", err, tt.status)
			}
			if !strings.HasPrefix(warning, tt.warning) {
				t.Errorf("Warning %q, want prefix %q", warning, tt.warning)
			}
			c := recv(t, h.calls, "call")
			if r := recv(t, h.answers, "answer"); !errors.Is(r.err, tt.cause) {
				t.Errorf("Answer error %v, want %v", r.err, tt.cause)
			}
			waitDone(t, c.Done(), "call")
			if !errors.Is(c.Err(), ErrRejected) {
				t.Errorf("Err = %v, want ErrRejected", c.Err())
			}
		})
	}
}

func TestOversizedSDPRefusedBeforeHandler(t *testing.T) {
	s := startServer(t, Config{TCP: "127.0.0.1:0"}, HandlerFunc(func(ctx context.Context, c *Call) {
		t.Error("handler ran for an oversized offer")
	}))
	p := newPeer(t, "tcp")
	big := append(readOffer(t, "twilio.sdp"), []byte("a="+strings.Repeat("x", MaxSDPSize)+"\r\n")...)
	_, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "tcp"), sdp: big})
	if !isStatus(err, 400) {
		t.Fatalf("INVITE: %v, want 400", err)
	}
	if s.rejected(rejectMalformed) != 1 {
		t.Errorf("rejected{malformed} = %v, want 1", s.rejected(rejectMalformed))
	}
}

func TestCancelBeforeAnswer487(t *testing.T) {
	calls := make(chan *Call, 1)
	s := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {
		if err := c.Ringing(); err != nil {
			t.Errorf("Ringing: %v", err)
		}
		calls <- c
		<-ctx.Done()
	}))
	p := newPeer(t, "udp")
	ctx, cancel := context.WithCancel(ctxFor(t))
	dlg, err := p.invite(ctx, call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp"),
		onResp: func(r *sip.Response) {
			if r.StatusCode == 180 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("INVITE: %v, want canceled", err)
	}
	if dlg.InviteResponse.StatusCode != 487 {
		t.Fatalf("final response %d, want 487", dlg.InviteResponse.StatusCode)
	}
	c := recv(t, calls, "call")
	waitDone(t, c.Done(), "call")
	if !errors.Is(c.Err(), ErrCanceled) || !strings.Contains(c.Err().Error(), "canceled") {
		t.Errorf("Err = %v, want ErrCanceled", c.Err())
	}
	eventually(t, "calls_total{canceled}", func() bool { return s.callsTotal(resultCanceled) == 1 })
}

func TestReinviteHoldDeliversUpdate(t *testing.T) {
	h := newAnswering()
	s := startServer(t, Config{}, h)
	p := newPeer(t, "udp")
	offer := readOffer(t, "twilio.sdp")
	dlg, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: offer})
	if err != nil {
		t.Fatal(err)
	}
	c := recv(t, h.calls, "call")
	first := recv(t, h.answers, "answer").ans
	hold := readOffer(t, "hold_sendonly.sdp")

	steps := []struct {
		name    string
		offer   []byte
		dir     string
		version uint64 // o= version of our answer
	}{
		{"hold", hold, "recvonly", 2},
		{"resume", offer, "sendrecv", 3},
		{"refresh", offer, "sendrecv", 3}, // same SDP: version unchanged
		{"offerless refresh", nil, "sendrecv", 3},
	}
	for _, st := range steps {
		res, err := inDialog(ctxFor(t), dlg, sip.INVITE, st.offer, sip.NewHeader("Content-Type", "application/sdp"))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: re-INVITE: %v %v", st.name, res, err)
		}
		ackBody := []byte(nil)
		if st.offer == nil {
			ackBody = answerTo(t, res.Body())
		}
		ack := sip.NewRequest(sip.ACK, *dlg.InviteResponse.Contact().Address.Clone())
		if ackBody != nil {
			ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			ack.SetBody(ackBody)
		}
		if err := dlg.WriteAck(ctxFor(t), ack); err != nil {
			t.Fatal(err)
		}
		up := recv(t, c.Updates(), st.name+" update")
		if up.Direction != st.dir {
			t.Errorf("%s: direction %q, want %q", st.name, up.Direction, st.dir)
		}
		o := origin(t, res.Body())
		if o.SessionID != first.sessionID(t) || o.SessionVersion != st.version {
			t.Errorf("%s: o= %d %d, want session %d version %d", st.name, o.SessionID, o.SessionVersion, first.sessionID(t), st.version)
		}
	}
	if c.ended() {
		t.Fatalf("call ended: %v", c.Err())
	}
	if err := dlg.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitDone(t, c.Done(), "call")
}

// answerTo answers an offer from us as a phone would.
func answerTo(t *testing.T, offer []byte) []byte {
	t.Helper()
	ans, err := Negotiate(offer, Local{Addr: local4.Addr.Next(), Port: 50000, SessionID: 77, SessionVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	return ans.SDP
}

func origin(t *testing.T, raw []byte) sdp.Origin {
	t.Helper()
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(raw); err != nil {
		t.Fatalf("%v:\n%s", err, raw)
	}
	return sd.Origin
}

func (a Answer) sessionID(t *testing.T) uint64 { return origin(t, a.SDP).SessionID }

func TestOfferlessInviteTakesAnswerFromACK(t *testing.T) {
	h := newAnswering()
	s := startServer(t, Config{}, h)
	p := newPeer(t, "udp")
	to := s.uri(t, "+15550100", "udp")
	req := sip.NewRequest(sip.INVITE, to)
	dlg, err := p.uacs.WriteInvite(ctxFor(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := dlg.WaitAnswer(ctxFor(t), sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	ack := sip.NewRequest(sip.ACK, *dlg.InviteResponse.Contact().Address.Clone())
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(answerTo(t, dlg.InviteResponse.Body()))
	if err := dlg.WriteAck(ctxFor(t), ack); err != nil {
		t.Fatal(err)
	}
	r := recv(t, h.answers, "answer")
	if r.err != nil || r.ans.Codec.Name != "G722" || r.ans.RemoteAddr.Port() != 50000 {
		t.Fatalf("answer %+v %v, want G722 to port 50000", r.ans, r.err)
	}
	if err := dlg.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
}

// TestAnswerRetransmits200UntilACK plays a UAC that withholds its ACK:
// the 200 OK must come again (RFC 3261 §13.3.1.4) until the ACK arrives.
func TestAnswerRetransmits200UntilACK(t *testing.T) {
	h := newAnswering()
	s := startServer(t, Config{}, h)
	conn, err := net.Dial("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	sdpBody := string(readOffer(t, "twilio.sdp"))
	invite := "INVITE sip:+15550100@" + s.Addr("udp") + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bKretx1\r\n" +
		"From: <sip:+15551230000@127.0.0.1>;tag=retx\r\nTo: <sip:+15550100@127.0.0.1>\r\n" +
		"Call-ID: retransmit-test\r\nCSeq: 1 INVITE\r\nContact: <sip:uac@" + local + ">\r\nMax-Forwards: 70\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdpBody)) + "\r\n\r\n" + sdpBody
	if _, err := conn.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
	var oks []*sip.Response
	buf := make([]byte, 65535)
	for len(oks) < 2 {
		_ = conn.SetReadDeadline(time.Now().Add(waitFor))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d 200 OKs: %v", len(oks), err)
		}
		msg, err := sip.ParseMessage(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if res, ok := msg.(*sip.Response); ok && res.StatusCode == 200 {
			oks = append(oks, res)
		}
	}
	select {
	case r := <-h.answers:
		t.Fatalf("Answer returned before the ACK: %+v", r)
	default:
	}
	to := oks[0].To()
	ack := "ACK sip:switchboard@" + s.Addr("udp") + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bKretx2\r\n" +
		"From: <sip:+15551230000@127.0.0.1>;tag=retx\r\nTo: " + to.Value() + "\r\n" +
		"Call-ID: retransmit-test\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(ack)); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, h.answers, "answer after ACK"); r.err != nil {
		t.Fatalf("Answer: %v", r.err)
	}
	c := recv(t, h.calls, "call")
	hungUp := make(chan error, 1)
	go func() { hungUp <- c.Hangup(ctxFor(t)) }()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(waitFor))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("waiting for our BYE at the UAC's Contact: %v", err)
		}
		msg, err := sip.ParseMessage(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if req, ok := msg.(*sip.Request); ok && req.Method == sip.BYE {
			if _, err := conn.Write([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String())); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if err := recv(t, hungUp, "Hangup"); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
}

// TestManyConcurrentCalls: calls in parallel through one trunk socket
// each get answered and end, and the active gauge returns to zero.
func TestManyConcurrentCalls(t *testing.T) {
	const n = 40
	h := newAnswering()
	h.calls, h.answers = make(chan *Call, n), make(chan answerResult, n)
	s := startServer(t, Config{}, h)
	p := newPeer(t, "udp")
	errs := make(chan error, n)
	for i := range n {
		go func() {
			ctx, cancel := peerCtx()
			defer cancel()
			dlg, err := p.invite(ctx, call{to: s.uri(t, "+1555010"+strconv.Itoa(i), "udp"), sdp: readOffer(t, "twilio.sdp")})
			if err == nil {
				err = dlg.Bye(ctx)
			}
			errs <- err
		}()
	}
	for range n {
		if err := recv(t, errs, "a call"); err != nil {
			t.Error(err)
		}
	}
	eventually(t, "all calls counted", func() bool { return s.callsTotal(resultAnswered) == n })
	eventually(t, "no active calls", func() bool { return toFloat(s.metrics.active) == 0 })
}

// A BYE with the dialog's Call-ID and tags from an address outside the
// call's trunk is refused and the call goes on; the caller's own BYE ends
// it. The tags travel in clear: they are no proof of who sends.
func TestInDialogRequestFromOutsideTheTrunkRefused(t *testing.T) {
	h := newAnswering()
	s := startServer(t, Config{Trunks: []Trunk{{Name: "one", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}}, h)
	p := newPeer(t, "udp")
	dlg, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp")})
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	c := recv(t, h.calls, "call")
	recv(t, h.answers, "answer")

	inv, res := dlg.InviteRequest, dlg.InviteResponse
	if got := spoofedBye(t, s.Addr("udp"), res.Contact().Address.String(), inv.From().Value(), res.To().Value(),
		inv.CallID().Value(), inv.CSeq().SeqNo+1); !strings.HasPrefix(got, "SIP/2.0 403") {
		t.Fatalf("spoofed BYE answered %q; want 403", got)
	}
	select {
	case <-c.Done():
		t.Fatalf("the spoofed BYE ended the call: %v", c.Err())
	default:
	}
	if got := s.rejected(rejectInDialogSource); got != 1 {
		t.Errorf("rejected{in_dialog_source} = %v, want 1", got)
	}
	if err := dlg.Bye(ctxFor(t)); err != nil {
		t.Fatalf("the caller's BYE: %v", err)
	}
	waitDone(t, c.Done(), "call")
	if !errors.Is(c.Err(), ErrRemoteHangup) {
		t.Errorf("Err = %v, want ErrRemoteHangup", c.Err())
	}
}

// A 200 OK never ACKed: after 64*T1 the call ends as "no ACK" (not as a
// transaction that ended before a final response) and, the dialog being
// confirmed at the peer, with a BYE (RFC 3261 §13.3.1.4).
func TestAnswerNeverACKedEndsWithBye(t *testing.T) {
	t1, t2, t4 := sip.T1, sip.T2, sip.T4
	sip.SetTimers(20*time.Millisecond, 80*time.Millisecond, 100*time.Millisecond)
	t.Cleanup(func() { sip.SetTimers(t1, t2, t4) })
	h := newAnswering()
	s := startServer(t, Config{}, h)
	conn, err := net.Dial("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rawInvite(t, conn, s.Addr("udp"), "no-ack-test", "", string(readOffer(t, "twilio.sdp")))
	buf := make([]byte, 65535)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(waitFor))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("waiting for a BYE after the unACKed 200 OK: %v", err)
		}
		msg, err := sip.ParseMessage(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if req, ok := msg.(*sip.Request); ok && req.Method == sip.BYE {
			if _, err := conn.Write([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String())); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	c := recv(t, h.calls, "call")
	waitDone(t, c.Done(), "call")
	if !errors.Is(c.Err(), ErrNoACK) {
		t.Errorf("Err = %v, want ErrNoACK", c.Err())
	}
	eventually(t, "calls_total{failed}", func() bool { return s.callsTotal(resultFailed) == 1 })
}

// A caller cannot make the gateway call a number of its choosing: a REFER
// in the call's dialog, or outside any dialog, is refused (transfers go
// only to configured targets), and the call goes on.
func TestReferFromTheCallerRefused(t *testing.T) {
	h := newAnswering()
	s := startServer(t, Config{}, h)
	p := newPeer(t, "udp")
	dlg, err := p.invite(ctxFor(t), call{to: s.uri(t, "+15550100", "udp"), sdp: readOffer(t, "twilio.sdp")})
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	c := recv(t, h.calls, "call")
	recv(t, h.answers, "answer")
	res, err := inDialog(ctxFor(t), dlg, sip.REFER, nil, sip.NewHeader("Refer-To", "<sip:+19005550199@203.0.113.7>"))
	if err != nil {
		t.Fatalf("in-dialog REFER: %v", err)
	}
	if res.StatusCode != 405 {
		t.Errorf("in-dialog REFER answered %d, want 405", res.StatusCode)
	}
	select {
	case <-c.Done():
		t.Fatalf("the REFER ended the call: %v", c.Err())
	default:
	}

	refer := sip.NewRequest(sip.REFER, s.uri(t, "+15550100", "udp"))
	refer.AppendHeader(sip.NewHeader("Refer-To", "<sip:+19005550199@203.0.113.7>"))
	res, err = p.cli.Do(ctxFor(t), refer)
	if err != nil {
		t.Fatalf("out-of-dialog REFER: %v", err)
	}
	if res.StatusCode != 405 {
		t.Errorf("out-of-dialog REFER answered %d, want 405", res.StatusCode)
	}
	if err := dlg.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitDone(t, c.Done(), "call")
}

// Over UDP, an INVITE whose offer has 300 m= lines (8 KB, under the 16 KiB
// bound) gets a final 488, not only 100 Trying and then silence.
func TestManyMediaLinesAnsweredOverUDP(t *testing.T) {
	s := startServer(t, Config{}, newAnswering())
	conn, err := net.Dial("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rawInvite(t, conn, s.Addr("udp"), "many-media-lines", "", manyStreams(300))
	if line := finalStatusLine(t, conn); !strings.HasPrefix(line, "SIP/2.0 488") {
		t.Fatalf("final response %q, want 488", line)
	}
}

// A 200 OK that would not fit a UDP datagram (it copies the INVITE's 30
// Record-Route headers, RFC 3261 §12.1.1) becomes a 513: a final answer
// the caller hears, never 100 Trying and then silence.
func TestTooLargeAnswerOverUDPIs513(t *testing.T) {
	h := newAnswering()
	s := startServer(t, Config{}, h)
	conn, err := net.Dial("udp", s.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rr strings.Builder
	for i := range 30 {
		rr.WriteString("Record-Route: <sip:proxy-" + strconv.Itoa(i) + ".carrier.example.net:5060;lr;transport=udp>\r\n")
	}
	rawInvite(t, conn, s.Addr("udp"), "big-200", rr.String(), string(readOffer(t, "twilio.sdp")))
	if line := finalStatusLine(t, conn); !strings.HasPrefix(line, "SIP/2.0 513") {
		t.Fatalf("final response %q, want 513", line)
	}
	if r := recv(t, h.answers, "answer"); r.err == nil {
		t.Error("Answer succeeded although its 200 OK could not be sent")
	}
}
