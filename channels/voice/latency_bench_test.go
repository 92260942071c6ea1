package voice_test

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/openaitest"
)

// Provider delays the local OpenAI-wire server adds to every voice turn:
// what a real model and speech service would take. Switchboard's own share
// of a turn is what is left when they are subtracted.
const (
	benchSTTDelay    = 100 * time.Millisecond
	benchChatDelay   = 200 * time.Millisecond
	benchSpeechDelay = 100 * time.Millisecond
	benchTurns       = 12
)

// BenchmarkVoiceTurnLatency: one sipp call says "Where is my order?" (G.722)
// benchTurns times; recognition, the model and speech go through the local
// OpenAI-wire server with the delays above. Each turn is timed from the end
// of speech (as the VAD heard it) to the first audio of the reply going to
// playout; its first packet leaves at the next 20 ms tick, up to 20 ms
// more. Reported: p50 and p99 of the whole and of the gateway's own share.
// make bench runs it with -benchtime 1x.
func BenchmarkVoiceTurnLatency(b *testing.B) {
	for range b.N {
		own := voiceTurns(b)
		slices.Sort(own)
		b.ReportMetric(float64(len(own)), "turns")
		b.ReportMetric(quantile(own, 0.5), "own-p50-ms")
		b.ReportMetric(quantile(own, 0.99), "own-p99-ms")
	}
}

func voiceTurns(b *testing.B) []float64 {
	ai := openaitest.New(b)
	b.Setenv("SB_VOICE_OPENAI_KEY", "test-key")
	// Different questions each turn: the same one again and again is, rightly,
	// frustration, and the call would be transferred.
	questions := []string{"Where is my order?", "How long does delivery take?", "Can I return a sofa?",
		"Do you deliver on Saturdays?", "How do I change my address?", "What is the Pine Club?",
		"Can I pay in instalments?", "Is the oak table solid wood?", "Do you offer assembly?",
		"How do I track a parcel?", "What sizes do the duvets come in?", "Can I collect from a store?"}
	for i := range benchTurns {
		ai.QueueTranscription(questions[i%len(questions)], benchSTTDelay)
		// A different answer each turn too: a repeated sentence would come
		// from the synthesiser's cache, without the speech delay.
		ai.QueueChat(openaitest.ChatReply{Content: []string{fmt.Sprintf("Here is answer number %d.", i+1)}, Delay: benchChatDelay})
	}
	tone := make([]int16, 4800) // 0.2 s at 24 kHz: short, so the next question is not cut off
	for i := range tone {
		tone[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/24000))
	}
	ai.SetSpeech(tone, 24000, benchSpeechDelay)
	speech := config.Speech{Kind: "openai", BaseURL: ai.URL, Model: "bench", APIKeyEnv: "SB_VOICE_OPENAI_KEY",
		Timeout: 10 * time.Second, Voice: "alloy", Format: "pcm", MaxParallel: 4}
	client := dialog.WithSpeechHTTPClient(ai.Config().HTTPClient.(*http.Client))
	stt, err := dialog.NewOpenAISTT(speech, nil, client)
	if err != nil {
		b.Fatal(err)
	}
	tts, err := dialog.NewOpenAITTS(speech, nil, client)
	if err != nil {
		b.Fatal(err)
	}
	var (
		mu      sync.Mutex
		samples []time.Duration
	)
	r := newRigWith(b, "sip:support-desk@127.0.0.1:5999", "refer", nil, providers{responder: chatVia(b, ai), stt: stt, tts: tts,
		observe: func(d time.Duration) { mu.Lock(); samples = append(samples, d); mu.Unlock() }})
	// The greeting is synthesised before the first question, so no turn
	// waits for it; the file is ~3 s, said benchTurns times back to back.
	s := startSipp(b, scenario(b, "voice_caller.xml.tmpl", caller{PT: 9, Codec: "G722", Stream: true, PauseMs: 3000,
		Play: fmt.Sprintf(`<exec rtp_stream="where_order.g722,%d,9"/>`, benchTurns), Refer: "none", After: "send_bye",
		ByeAfterMs: benchTurns*3500 + 3000}), r.sipAddr.String(), freeUDPPort(b))
	s.wait(b, time.Duration(benchTurns)*10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(samples) < benchTurns/2 {
		b.Fatalf("only %d of %d turns were answered", len(samples), benchTurns)
	}
	provider := benchSTTDelay + benchChatDelay + benchSpeechDelay
	own := make([]float64, 0, len(samples))
	for _, d := range samples {
		b.Logf("turn %v, own share %v", d.Round(time.Millisecond), (d - provider).Round(time.Millisecond))
		own = append(own, float64(d-provider)/float64(time.Millisecond))
	}
	return own
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
