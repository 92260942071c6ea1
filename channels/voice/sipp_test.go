package voice_test

import (
	"fmt"
	"math"
	"net"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"switchboard/channels/voice"
	"switchboard/store"
)

// caller fills testdata/sipp/voice_caller.xml.tmpl.
type caller struct {
	PT             int
	Codec          string
	Stream         bool   // audio sent with rtp_stream (else a pcap)
	PauseMs        int    // after the answer, before Play
	Play           string // sipp action XML
	PauseThenMs    int    // after Play starts, before PlayThen
	PlayThen       string // sipp action XML, optional
	Refer          string // accept | reject
	PlayAfterRefer string // sipp action XML, after a rejected REFER
	After          string // recv_bye | send_bye
	ByeAfterMs     int
	TimeoutMs      int
}

// fallback fills testdata/sipp/voice_fallback.xml.tmpl.
type fallback struct {
	Answer     string // answer | ring
	MediaPort  int
	HangUp     bool
	ByeAfterMs int
}

const dtmfZero = `<exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_0.pcap"/>`

func TestCallerPressesZeroAndIsReferred(t *testing.T) {
	t.Parallel()
	r := newRig(t, "sip:support-desk@127.0.0.1:5999", "refer_then_bridge", nil)
	scen := scenario(t, "voice_caller.xml.tmpl", caller{PT: 0, Codec: "PCMU", PauseMs: 1500, Play: dtmfZero,
		Refer: "accept", After: "recv_bye", TimeoutMs: 15000})
	s := startSipp(t, scen, r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)

	conv, msgs, hs := r.conversation(t)
	if len(hs) != 1 || hs[0].Trigger != "explicit_request" || hs[0].Target != "support_line" {
		t.Fatalf("handoffs = %+v", hs)
	}
	refer := sipMessage(t, s.trace(), "REFER")
	referTo := header(refer, "Refer-To")
	for _, want := range []string{"sip:support-desk@127.0.0.1:5999?", "X-Switchboard-Conversation=" + string(conv.ID),
		"X-Switchboard-Reason=customer_request", "User-to-User="} {
		if !strings.Contains(referTo, want) {
			t.Errorf("Refer-To %q lacks %q", referTo, want)
		}
	}
	if header(refer, "Referred-By") == "" {
		t.Error("REFER has no Referred-By")
	}
	wantMessages(t, msgs, "pressed 0", "Transferred to support_line")
	if n := counter(t, r, "switchboard_voice_transfer_start_seconds"); n != 1 {
		t.Errorf("decision-to-REFER timings = %v, want 1", n)
	}
	callID := header(sipMessage(t, s.trace(), "INVITE"), "Call-ID")
	if byCall, err := r.core.Store.ConversationByThread(t.Context(), store.ChannelVoice, callID); callID == "" || err != nil || byCall.ID != conv.ID {
		t.Errorf("conversation by Call-ID %q = %s, %v; want %s", callID, byCall.ID, err, conv.ID)
	}
	if conv.Customer != "+15551230001" {
		t.Errorf("customer = %q, want the caller's number", conv.Customer)
	}
}

// Speech, not DTMF: the caller says it, pocketsphinx hears it over G.722
// and the policy hands off.
func TestCallerAsksForHumanInWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, trigger, topic, heard string
	}{
		{"human agent", "human_agent.g722", "explicit_request", "", "human agent"},
		{"restricted topic", "close_account.g722", "restricted_topic", "account_cancellation", "close my account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, "sip:support-desk@127.0.0.1:5999", "refer", nil)
			scen := scenario(t, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 500,
				Play: fmt.Sprintf(`<exec rtp_stream="%s,1,9"/>`, tc.file), Refer: "accept", After: "recv_bye", TimeoutMs: 15000})
			s := startSipp(t, scen, r.sipAddr.String(), freeUDPPort(t))
			s.wait(t, 90*time.Second)
			_, msgs, hs := r.conversation(t)
			if len(hs) != 1 || hs[0].Trigger != tc.trigger || hs[0].Topic != tc.topic {
				t.Fatalf("handoffs = %+v, want trigger %s topic %q", hs, tc.trigger, tc.topic)
			}
			wantMessages(t, msgs, tc.heard, "Transferred to support_line")
		})
	}
}

// The trunk refuses the REFER (603): the gateway bridges to the fallback
// line itself, with the context headers; the caller's audio reaches the
// fallback, and a BYE on either leg ends the other.
func TestReferRejectedBridgesToFallback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		fallbackHangUp bool
	}{
		{"caller hangs up", false},
		{"fallback hangs up", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			media := listenRTP(t)
			fbPort := freeUDPPort(t)
			// The target's own headers, with variables, go on the bridged INVITE.
			r := newRig(t, fmt.Sprintf("sip:support-desk@127.0.0.1:%d", fbPort), "refer_then_bridge", func(l *voice.Live) {
				tg := l.Handoff.Targets["support_line"]
				tg.Headers = map[string]string{"X-Caller": "{{caller}}", "X-Why": "{{trigger}} via {{called}}"}
				l.Handoff.Targets["support_line"] = tg
			})
			fb := startSipp(t, scenario(t, "voice_fallback.xml.tmpl", fallback{Answer: "answer", MediaPort: media.port,
				HangUp: tc.fallbackHangUp, ByeAfterMs: 6000}), "", fbPort)
			c := caller{PT: 8, Codec: "PCMA", PauseMs: 1500, Play: dtmfZero, Refer: "reject",
				PlayAfterRefer: `<exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>`, After: "send_bye", ByeAfterMs: 7000}
			if tc.fallbackHangUp {
				c.After, c.TimeoutMs = "recv_bye", 30000
			}
			s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", c), r.sipAddr.String(), freeUDPPort(t))
			s.wait(t, 90*time.Second)
			fb.wait(t, 30*time.Second)
			if n := media.loud.Load(); n < 25 {
				t.Errorf("the fallback got %d packets of the caller's speech, want many", n)
			}
			invite := sipMessage(t, fb.trace(), "INVITE")
			conv, msgs, _ := r.conversation(t)
			if got := header(invite, "X-Switchboard-Conversation"); got != string(conv.ID) {
				t.Errorf("X-Switchboard-Conversation = %q, want %s", got, conv.ID)
			}
			if header(invite, "X-Caller") != "+15551230001" || header(invite, "X-Why") != "explicit_request via support" {
				t.Errorf("configured headers: X-Caller %q, X-Why %q", header(invite, "X-Caller"), header(invite, "X-Why"))
			}
			if header(invite, "User-to-User") == "" || header(invite, "X-Switchboard-Summary") == "" {
				t.Errorf("bridged INVITE lacks context headers:\n%s", invite)
			}
			wantMessages(t, msgs, "REFER to support_line failed", "Bridged to support_line")
			r.portsWhole(t)
		})
	}
}

// Nobody answers the fallback: the ring times out, the INVITE is
// cancelled, the AI tells the caller and a callback is recorded.
func TestFallbackNoAnswerRecordsCallback(t *testing.T) {
	t.Parallel()
	fbPort := freeUDPPort(t)
	r := newRig(t, fmt.Sprintf("sip:support-desk@127.0.0.1:%d", fbPort), "refer_then_bridge", nil)
	fb := startSipp(t, scenario(t, "voice_fallback.xml.tmpl", fallback{Answer: "ring"}), "", fbPort)
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 0, Codec: "PCMU", PauseMs: 1500, Play: dtmfZero,
		Refer: "reject", After: "send_bye", ByeAfterMs: 12000}), r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)
	fb.wait(t, 30*time.Second)
	conv, msgs, hs := r.conversation(t)
	if conv.State != store.StateAI {
		t.Errorf("state = %s, want ai (the AI took the call back)", conv.State)
	}
	if len(hs) != 2 || hs[1].Status != store.HandoffFollowUp || hs[1].Target != "callback" {
		t.Fatalf("handoffs = %+v, want the transfer and a callback", hs)
	}
	wantMessages(t, msgs, "Transfer failed: no answer", r.live.Handoff.Messages.TransferFailed)
	r.portsWhole(t)
}

// The caller hangs up while the fallback rings: the ringing INVITE is
// cancelled (the fallback scenario requires the CANCEL).
func TestCallerHangsUpMidTransfer(t *testing.T) {
	t.Parallel()
	fbPort := freeUDPPort(t)
	r := newRig(t, fmt.Sprintf("sip:support-desk@127.0.0.1:%d", fbPort), "bridge", nil)
	fb := startSipp(t, scenario(t, "voice_fallback.xml.tmpl", fallback{Answer: "ring"}), "", fbPort)
	c := caller{PT: 0, Codec: "PCMU", PauseMs: 1500, Play: dtmfZero, Refer: "none", After: "send_bye", ByeAfterMs: 2500}
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", c), r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)
	fb.wait(t, 30*time.Second)
	r.portsWhole(t)
}

// A caller who sends no RTP at all is hung up after the media timeout.
func TestSilentCallIsHungUp(t *testing.T) {
	t.Parallel()
	r := newRig(t, "sip:support-desk@127.0.0.1:5999", "refer", func(l *voice.Live) { l.Voice.MediaTimeout = 3 * time.Second })
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 0, Codec: "PCMU", Refer: "none", After: "recv_bye",
		TimeoutMs: 20000}), r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 60*time.Second)
	if n := counter(t, r, "switchboard_voice_media_ended_total"); n != 1 {
		t.Errorf("switchboard_voice_media_ended_total = %v, want 1", n)
	}
}

// rtpSink counts RTP packets whose audio is louder than silence.
type rtpSink struct {
	port int
	loud atomic.Int64
}

func listenRTP(t *testing.T) *rtpSink {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &rtpSink{port: c.LocalAddr().(*net.UDPAddr).Port}
	go func() {
		buf := make([]byte, 1500)
		var p rtp.Packet
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if p.Unmarshal(buf[:n]) == nil && p.PayloadType == 8 && rms(g711.DecodeAlaw(p.Payload)) > 300 {
				s.loud.Add(1)
			}
		}
	}()
	return s
}

func rms(le []byte) float64 {
	var sum float64
	n := len(le) / 2
	for i := 0; i < n; i++ {
		v := float64(int16(uint16(le[2*i]) | uint16(le[2*i+1])<<8))
		sum += v * v
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}

// sipMessage finds the first message of sipp's trace starting with method.
func sipMessage(t *testing.T, trace, method string) string {
	t.Helper()
	i := strings.Index(trace, "\n"+method+" sip:")
	if i < 0 {
		t.Fatalf("no %s in sipp's trace:\n%s", method, trace)
	}
	m := trace[i+1:]
	if j := strings.Index(m, "\n\n"); j >= 0 {
		m = m[:j]
	}
	return m
}

func header(msg, name string) string {
	re := regexp.MustCompile(`(?mi)^` + regexp.QuoteMeta(name) + `\s*:\s*(.*?)\r?$`)
	if m := re.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

func wantMessages(t *testing.T, msgs []store.Message, fragments ...string) {
	t.Helper()
	var all strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&all, "%s: %s\n", m.Role, m.Text)
	}
	for _, f := range fragments {
		if !strings.Contains(strings.ToLower(all.String()), strings.ToLower(f)) {
			t.Errorf("transcript lacks %q:\n%s", f, all.String())
		}
	}
}

var _ = os.Getenv

// Hold is not dead media: the caller holds the call (re-INVITE sendonly,
// answered recvonly) and sends nothing for twice the media timeout, takes it
// off hold, presses 0 and is referred.
func TestHoldSuspendsTheMediaTimeout(t *testing.T) {
	t.Parallel()
	r := newRig(t, "sip:support-desk@127.0.0.1:5999", "refer", func(l *voice.Live) { l.Voice.MediaTimeout = 3 * time.Second })
	s := startSipp(t, "../../testdata/sipp/voice_hold.xml", r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)
	if n := counter(t, r, "switchboard_voice_media_ended_total"); n != 0 {
		t.Errorf("the held call was hung up for dead media (%v)", n)
	}
	_, msgs, hs := r.conversation(t)
	if len(hs) != 1 {
		t.Fatalf("handoffs = %+v", hs)
	}
	wantMessages(t, msgs, "Transferred to support_line")
}
