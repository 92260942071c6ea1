package voice_test

import (
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/openaitest"
	"switchboard/speech"
	"switchboard/store"
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
	r := newRigWith(t, "sip:support-desk@127.0.0.1:5999", "refer", nil, providers{responder: chatVia(t, ai)})
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

// chatVia makes the rig's responder an OpenAI one talking to ai.
func chatVia(t testing.TB, ai *openaitest.Server) func(*dialog.Knowledge, *config.Config, dialog.Responder) dialog.Responder {
	return func(kb *dialog.Knowledge, cfg *config.Config, embedded dialog.Responder) dialog.Responder {
		o, err := dialog.NewOpenAI(config.OpenAIResponder{BaseURL: ai.URL, Model: "test-model",
			APIKeyEnv: "SB_VOICE_OPENAI_KEY", Timeout: 10 * time.Second, HistoryTokens: 4000},
			dialog.OpenAIInputs{Knowledge: kb, Handoff: cfg.Handoff, Fallback: embedded})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
}

// A whole voice turn through an OpenAI-compatible server: the caller's
// audio goes to its transcription endpoint, the transcript to its chat
// endpoint, and the replies (the greeting, the answer, the handoff notice)
// come from its speech endpoint onto the call. The model answers and asks
// for a transfer in the same turn; voice is quick, so the call is referred.
func TestVoiceTurnThroughOpenAIProviders(t *testing.T) {
	ai := openaitest.New(t)
	t.Setenv("SB_VOICE_OPENAI_KEY", "test-key")
	ai.QueueTranscription("Where is my order?", 0)
	answer := "It left our depot this morning. It arrives tomorrow."
	// Each chunk comes 0.6 s after the last: the first sentence must be
	// spoken (asked of the speech endpoint) before the reply is complete.
	ai.QueueChat(openaitest.ChatReply{Content: []string{"It left our depot this morning. ", "It arrives tomorrow."},
		ChunkDelay: 600 * time.Millisecond,
		ToolCalls: []openaitest.ToolCall{{ID: "call_1", Name: "transfer_to_human",
			Arguments: `{"reason":"customer_request","summary":"Asked where the order is; wants a person to confirm."}`}}})
	tone := make([]int16, 12000) // half a second of 440 Hz at OpenAI's 24 kHz pcm rate
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/24000))
	}
	ai.SetSpeech(tone, 24000, 0)
	sc := config.Speech{Kind: "openai", BaseURL: ai.URL, Model: "test-speech", APIKeyEnv: "SB_VOICE_OPENAI_KEY",
		Timeout: 10 * time.Second, Voice: "alloy", Format: "pcm"}
	client := speech.WithHTTPClient(ai.Config().HTTPClient.(*http.Client))
	stt, err := speech.NewOpenAISTT(sc, nil, client)
	if err != nil {
		t.Fatal(err)
	}
	tts, err := speech.NewOpenAITTS(sc, nil, client)
	if err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, "sip:support-desk@127.0.0.1:5999", "refer", nil, providers{responder: chatVia(t, ai), stt: stt, tts: tts})
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 500,
		Play: `<exec rtp_stream="where_order.g722,1,9"/>`, Refer: "accept", After: "recv_bye", TimeoutMs: 30000}),
		r.sipAddr.String(), freeUDPPort(t))
	eventually(t, "the first sentence spoken", func() bool { return spoken(ai, "It left our depot this morning.") > 0 })
	if _, msgs, _ := r.conversation(t); strings.Contains(transcript(msgs), answer) {
		t.Error("the first sentence was spoken only after the whole reply was stored: not streamed")
	}
	s.wait(t, 90*time.Second)

	if n := spoken(ai, "It left our depot this morning."); n != 1 {
		t.Errorf("the first sentence was spoken %d times, want once", n)
	}
	if audio := ai.Transcriptions(); len(audio) != 1 || len(audio[0]) < 16000 {
		t.Fatalf("transcription uploads: %d", len(audio))
	}
	if spoken(ai, "It arrives tomorrow.") != 1 {
		t.Errorf("the second sentence was not spoken once: %+v", ai.SpeechRequests())
	}
	_, msgs, hs := r.conversation(t)
	if len(hs) != 1 || hs[0].Reason != "customer_request" {
		t.Fatalf("handoffs = %+v", hs)
	}
	wantMessages(t, msgs, "customer: Where is my order?", "ai: "+answer, "Transferred to support_line")
}

// spoken counts the speech requests for text.
func spoken(ai *openaitest.Server, text string) int {
	n := 0
	for _, req := range ai.SpeechRequests() {
		if req.Input == text {
			n++
		}
	}
	return n
}

func transcript(msgs []store.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(string(m.Role) + ": " + m.Text + "\n")
	}
	return b.String()
}
