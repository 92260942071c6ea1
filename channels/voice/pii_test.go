package voice_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/channels/voice"
	"switchboard/config"
	"switchboard/dialog/openaitest"
	"switchboard/handoff"
)

// The context headers of a transfer are masked by the call's own masker,
// on the REFER and on the bridged INVITE after the REFER is refused: the
// summary header and the target's configured headers built from it. The
// stored summary was masked by the conversation's masker (cards); the
// call's masks the admin's pattern too, so the headers show both.
func TestTransferContextHeadersAreMasked(t *testing.T) {
	ai := openaitest.New(t)
	t.Setenv("SB_VOICE_OPENAI_KEY", "test-key")
	// Short: the bridged INVITE must fit a UDP datagram with the summary
	// in it twice.
	summary := "Order 1234, paid by card 4242 4242 4242 4242, is stuck at the depot."
	ai.QueueChat(openaitest.ChatReply{Content: []string{"Let me get someone who can chase that for you."},
		ToolCalls: []openaitest.ToolCall{{ID: "call_1", Name: "transfer_to_human",
			Arguments: `{"reason":"missing_tool","summary":"` + summary + `"}`}}})
	masker, err := handoff.NewMasker(config.PII{MaskCards: true, Patterns: []string{`depot`}})
	if err != nil {
		t.Fatal(err)
	}
	media := listenRTP(t)
	fbPort := freeUDPPort(t)
	r := newRigWith(t, fmt.Sprintf("sip:support-desk@127.0.0.1:%d", fbPort), "refer_then_bridge", func(l *voice.Live) {
		l.Masker = masker
		tg := l.Handoff.Targets["support_line"]
		tg.Headers = map[string]string{"X-Note": "{{summary}}"}
		l.Handoff.Targets["support_line"] = tg
	}, providers{responder: chatVia(t, ai)})
	fb := startSipp(t, scenario(t, "voice_fallback.xml.tmpl", fallback{Answer: "answer", MediaPort: media.port, ByeAfterMs: 6000}), "", fbPort)
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 500,
		Play: `<exec rtp_stream="where_order.g722,1,9"/>`, Refer: "reject", PlayAfterRefer: `<exec rtp_stream="pause"/>`,
		After: "send_bye", ByeAfterMs: 7000}), r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)
	fb.wait(t, 30*time.Second)

	_, msgs, hs := r.conversation(t)
	stored := "Order 1234, paid by card [card ending 4242], is stuck at the depot."
	if len(hs) == 0 || hs[0].Summary != stored {
		t.Fatalf("handoffs = %+v, want the first with summary %q", hs, stored)
	}
	wantMessages(t, msgs, "REFER to support_line failed", "Bridged to support_line")
	want := "Order 1234, paid by card [card ending 4242], is stuck at the [redacted]."
	referTo, err := url.PathUnescape(header(sipMessage(t, s.trace(), "REFER"), "Refer-To"))
	if err != nil {
		t.Fatal(err)
	}
	invite := sipMessage(t, fb.trace(), "INVITE")
	for name, v := range map[string]string{
		"REFER's X-Switchboard-Summary":  uriHeader(referTo, "X-Switchboard-Summary"),
		"REFER's X-Note":                 uriHeader(referTo, "X-Note"),
		"INVITE's X-Switchboard-Summary": header(invite, "X-Switchboard-Summary"),
		"INVITE's X-Note":                header(invite, "X-Note"),
	} {
		if v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	for _, m := range []string{referTo, invite} {
		if strings.Contains(m, "4242 4242") || strings.Contains(m, "depot") {
			t.Errorf("context left unmasked:\n%s", m)
		}
	}
}

// uriHeader is the value of a header embedded in an unescaped Refer-To URI.
func uriHeader(referTo, name string) string {
	_, hs, _ := strings.Cut(strings.Trim(referTo, "<>"), "?")
	for _, h := range strings.Split(hs, "&") {
		if v, ok := strings.CutPrefix(h, name+"="); ok {
			return v
		}
	}
	return ""
}
