package voice_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog/openaitest"
	"switchboard/speech"
	"switchboard/store"
)

// speechVia makes a recogniser that sends the call's audio to ai.
func speechVia(t testing.TB, ai *openaitest.Server) speech.STT {
	t.Helper()
	t.Setenv("SB_VOICE_OPENAI_KEY", "test-key")
	sc := config.Speech{Kind: "openai", BaseURL: ai.URL, Model: "test-stt", APIKeyEnv: "SB_VOICE_OPENAI_KEY",
		Timeout: 10 * time.Second}
	stt, err := speech.NewOpenAISTT(sc, nil, speech.WithHTTPClient(ai.Config().HTTPClient.(*http.Client)))
	if err != nil {
		t.Fatal(err)
	}
	return stt
}

// customerSaid lists what the caller said, as stored.
func customerSaid(msgs []store.Message) []string {
	var said []string
	for _, m := range msgs {
		if m.Role == store.RoleCustomer {
			said = append(said, m.Text)
		}
	}
	return said
}

// A caller who pauses mid-sentence ("I want to close ... my account.",
// ~0.6 s of silence, longer than the end of speech) is not cut off: the
// VAD ends the first piece, but the caller goes on before the AI has
// answered it, so both pieces make one turn. That turn is a restricted
// topic and is referred. The recogniser is scripted (local OpenAI-wire
// server) so that what the two pieces "say" is certain:
//   - slow recognition: the caller starts again while the first piece is
//     still being recognised;
//   - dangling word: the first piece is recognised at once but ends on
//     "my", and the caller starts again within the hold.
func TestCallerPausingMidSentenceIsNotCutOff(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second string
		firstDelay    time.Duration
	}{
		{"slow recognition", "I want to close", "my account", 1500 * time.Millisecond},
		{"dangling word", "I want to close my", "account", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ai := openaitest.New(t)
			ai.QueueTranscription(tc.first, tc.firstDelay)
			ai.QueueTranscription(tc.second, 0)
			// The shipped end_of_speech (260 ms), well under the pause.
			r := newRigWith(t, "sip:support-desk@127.0.0.1:5999", "refer", nil, providers{stt: speechVia(t, ai)})
			s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 500,
				Play: `<exec rtp_stream="close_account_paused.g722,1,9"/>`, Refer: "accept", After: "recv_bye", TimeoutMs: 20000}),
				r.sipAddr.String(), freeUDPPort(t))
			s.wait(t, 90*time.Second)

			_, msgs, hs := r.conversation(t)
			if got, want := customerSaid(msgs), tc.first+" "+tc.second; len(got) != 1 || got[0] != want {
				t.Fatalf("the caller's turns were %q, want one: %q\n%s", got, want, transcript(msgs))
			}
			if n := len(ai.Transcriptions()); n != 2 {
				t.Fatalf("%d pieces recognised, want 2: the VAD must still end the first piece early", n)
			}
			if len(hs) != 1 || hs[0].Topic != "account_cancellation" {
				t.Fatalf("handoffs = %+v", hs)
			}
			if n := counter(t, r, "switchboard_voice_utterances_joined_total"); n != 1 {
				t.Errorf("joined utterances = %v, want 1", n)
			}
		})
	}
}

// A caller who talks over a reply that the model is still writing cancels
// the model's stream, not only the speech: the reply stored is the part
// spoken before the caller cut in, and the caller's new words are answered.
func TestBargeInCancelsTheModelStream(t *testing.T) {
	ai := openaitest.New(t)
	ai.QueueTranscription("Where is my order?", 0)
	ai.QueueTranscription("Hello, I have a question.", 0)
	var long []string
	for i := 1; i <= 12; i++ {
		long = append(long, fmt.Sprintf("Here is detail number %d about your order. ", i))
	}
	// 12 sentences, 0.6 s apart: the stream lasts ~7 s; the caller cuts in
	// about 3 s after it starts.
	ai.QueueChat(openaitest.ChatReply{Content: long, ChunkDelay: 600 * time.Millisecond},
		openaitest.ChatReply{Content: []string{"Sure, go ahead."}})
	r := newRigWith(t, "sip:support-desk@127.0.0.1:5999", "refer", nil,
		providers{responder: chatVia(t, ai), stt: speechVia(t, ai)})
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 500,
		Play: `<exec rtp_stream="where_order.g722,1,9"/>`, PauseThenMs: 5000, PlayThen: `<exec rtp_stream="greeting.g722,1,9"/>`,
		Refer: "none", After: "send_bye", ByeAfterMs: 6000}),
		r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)

	_, msgs, _ := r.conversation(t)
	var replies []string
	for _, m := range msgs {
		if m.Role == store.RoleAI {
			replies = append(replies, m.Text)
		}
	}
	// greeting, the cut reply, the answer to the new words
	if len(replies) != 3 || replies[2] != "Sure, go ahead." {
		t.Fatalf("AI replies %q\n%s", replies, transcript(msgs))
	}
	cut := replies[1]
	if !strings.HasPrefix(cut, "Here is detail number 1 ") || strings.Contains(cut, "number 12") {
		t.Fatalf("stored reply %q: want the first sentences only, the stream cancelled", cut)
	}
	t.Logf("reply as stored after the barge-in: %q", cut)
	if got := customerSaid(msgs); len(got) != 2 {
		t.Fatalf("caller turns %q", got)
	}
}

// With a recogniser that answers at once and the embedded responder, the
// reply to the first piece of "Can I return ... a sofa?" (a 0.3 s pause
// the VAD takes for the end) is ready long before the caller goes on. It
// is held back for joinWithin; the caller goes on within it, so not a word
// of it is said or stored, and the whole sentence is answered once.
func TestReplyWaitsForACallerWhoGoesOn(t *testing.T) {
	ai := openaitest.New(t)
	ai.QueueTranscription("Can I return", 0)
	ai.QueueTranscription("a sofa", 0)
	r := newRigWith(t, "sip:support-desk@127.0.0.1:5999", "refer", nil, providers{stt: speechVia(t, ai)})
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 500,
		Play: `<exec rtp_stream="return_sofa_paused.g722,1,9"/>`, Refer: "none", After: "send_bye", ByeAfterMs: 6000}),
		r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 90*time.Second)

	_, msgs, _ := r.conversation(t)
	if got := customerSaid(msgs); len(got) != 2 || got[1] != "Can I return a sofa" {
		t.Fatalf("the caller's turns were %q, want the first piece and then the whole sentence\n%s", got, transcript(msgs))
	}
	var replies int
	for _, m := range msgs {
		if m.Role == store.RoleAI && m.Text != r.live.Voice.Greeting {
			replies++
		}
	}
	if replies != 1 {
		t.Fatalf("%d AI replies, want one, to the whole sentence\n%s", replies, transcript(msgs))
	}
	if n := counter(t, r, "switchboard_voice_utterances_joined_total"); n != 1 {
		t.Errorf("joined utterances = %v, want 1", n)
	}
}
