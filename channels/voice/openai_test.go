package voice_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/openaitest"
)

// A spoken turn answered by an OpenAI-compatible model (a local server
// speaking its wire format, the real go-openai client): the model calls its
// transfer tool, the policy (voice: quick) grants it, and the model's
// summary travels in the REFER's context headers.
func TestModelTransferOnACallCarriesItsSummary(t *testing.T) {
	ai := openaitest.New(t)
	t.Setenv("SB_VOICE_OPENAI_KEY", "test-key")
	summary := "Caller asks where order 1234 is; tracking shows it stuck at the depot since Monday."
	ai.QueueChat(openaitest.ChatReply{Content: []string{"Let me get someone who can chase that for you."},
		ToolCalls: []openaitest.ToolCall{{ID: "call_1", Name: "transfer_to_human",
			Arguments: `{"reason":"missing_tool","summary":"` + summary + `"}`}}})
	r := newRigWith(t, "sip:support-desk@127.0.0.1:5999", "refer", nil,
		func(kb *dialog.Knowledge, cfg *config.Config, embedded dialog.Responder) dialog.Responder {
			o, err := dialog.NewOpenAI(config.OpenAIResponder{BaseURL: ai.URL, Model: "test-model",
				APIKeyEnv: "SB_VOICE_OPENAI_KEY", Timeout: 10 * time.Second, HistoryTokens: 4000},
				dialog.OpenAIInputs{Knowledge: kb, Handoff: cfg.Handoff, Fallback: embedded})
			if err != nil {
				t.Fatal(err)
			}
			return o
		})
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 500,
		Play: `<exec rtp_stream="where_order.g722,1,9"/>`, Refer: "accept", After: "recv_bye", TimeoutMs: 15000}),
		r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)

	_, msgs, hs := r.conversation(t)
	if len(hs) != 1 || hs[0].Trigger != "ai_decision" || hs[0].Summary != summary {
		t.Fatalf("handoffs = %+v", hs)
	}
	wantMessages(t, msgs, "where is my order", "Let me get someone", "Transferred to support_line")
	reqs := ai.ChatRequests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].Messages[len(reqs[0].Messages)-1].Content, "where is my order") {
		t.Fatalf("the model was asked %+v", reqs)
	}
	referTo, err := url.PathUnescape(header(sipMessage(t, s.trace(), "REFER"), "Refer-To"))
	if err != nil || !strings.Contains(referTo, "X-Switchboard-Summary="+summary) {
		t.Fatalf("Refer-To lacks the model's summary: %q (%v)", referTo, err)
	}
}
