package speech_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.uber.org/goleak"

	"switchboard/config"
	"switchboard/dialog/openaitest"
	"switchboard/speech"
)

// testKeyEnv is the variable the providers under test read their key from.
const testKeyEnv = "SWITCHBOARD_TEST_OPENAI_KEY"

// speechServer is where a speech provider under test sends its requests.
type speechServer struct {
	URL    string
	Client *http.Client
}

func fromOpenAITest(s *openaitest.Server) speechServer {
	return speechServer{URL: s.URL, Client: s.Config().HTTPClient.(*http.Client)}
}

// failingSpeechServer answers every request with status and body, made
// from the request's Authorization header (see openaitest.Failing); nil
// body is OpenAI's JSON error for a server error.
func failingSpeechServer(t *testing.T, status int, body func(auth string) string) speechServer {
	t.Helper()
	if body == nil {
		body = func(string) string {
			return `{"error":{"message":"The server had an error while processing your request. Sorry about that!",` +
				`"type":"server_error","param":null,"code":null}}`
		}
	}
	srv, _ := openaitest.Failing(t, status, body)
	return speechServer{URL: srv.URL + "/v1", Client: srv.Client()}
}

// speechConfig is a valid openai speech config aimed at srv, with the key
// in the environment; tune changes it.
func speechConfig(t *testing.T, srv speechServer, model string, tune func(*config.Speech)) config.Speech {
	t.Helper()
	t.Setenv(testKeyEnv, "sk-test")
	cfg := config.Speech{Kind: "openai", BaseURL: srv.URL, Model: model, APIKeyEnv: testKeyEnv,
		Timeout: 5 * time.Second, Voice: "alloy", MaxParallel: 4}
	if tune != nil {
		tune(&cfg)
	}
	return cfg
}

func newSpeechSTT(t *testing.T, srv speechServer, tune func(*config.Speech)) *speech.OpenAISTT {
	t.Helper()
	stt, err := speech.NewOpenAISTT(speechConfig(t, srv, "whisper-1", tune), nil, speech.WithHTTPClient(srv.Client))
	if err != nil {
		t.Fatal(err)
	}
	return stt
}

func newSpeechTTS(t *testing.T, srv speechServer, tune func(*config.Speech)) *speech.OpenAITTS {
	t.Helper()
	tts, err := speech.NewOpenAITTS(speechConfig(t, srv, "tts-1", tune), nil, speech.WithHTTPClient(srv.Client))
	if err != nil {
		t.Fatal(err)
	}
	return tts
}

// checkSpeechLeaks fails the test if it leaves goroutines behind. Call it
// before starting servers: it checks after their cleanups.
func checkSpeechLeaks(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) })
}

// sawtooth is n samples that show byte order and truncation mistakes.
func sawtooth(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16((i*331)%65536 - 32768)
	}
	return pcm
}

// transcribe streams a in 20 ms frames, as the voice channel does, and
// returns the result.
func transcribe(ctx context.Context, stt speech.STT, a speech.Audio) (speech.Transcript, error) {
	s, err := stt.Start(ctx, a.Rate)
	if err != nil {
		return speech.Transcript{}, err
	}
	for f := range slices.Chunk(a.PCM, a.Rate/50) {
		if err := s.Write(f); err != nil {
			return speech.Transcript{}, err
		}
	}
	return s.Close()
}

func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestOpenAISTTSendsAWAVAtTheCallRate(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			s := openaitest.New(t)
			s.QueueTranscription("  I need help with my bill.\n", 0)
			stt := newSpeechSTT(t, fromOpenAITest(s), func(c *config.Speech) { c.Language = "en" })
			utterance := speech.Audio{PCM: sawtooth(rate * 3 / 2), Rate: rate}
			got, err := transcribe(t.Context(), stt, utterance)
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != "I need help with my bill." || got.Confidence != -1 || got.Speech != 1500*time.Millisecond || got.Process <= 0 {
				t.Errorf("transcript %+v, want the trimmed text of 1.5 s of speech, no confidence", got)
			}
			files := s.Transcriptions()
			if len(files) != 1 {
				t.Fatalf("server got %d files, want 1", len(files))
			}
			sent, err := speech.DecodeWAV(files[0])
			if err != nil {
				t.Fatal(err)
			}
			if sent.Rate != rate || !slices.Equal(sent.PCM, utterance.PCM) {
				t.Errorf("sent %d samples at %d Hz, want the %d samples at %d Hz", len(sent.PCM), sent.Rate, len(utterance.PCM), rate)
			}
		})
	}
}

func TestOpenAISTTFailuresSayWhy(t *testing.T) {
	utterance := speech.Audio{PCM: sawtooth(8000), Rate: 8000}
	tests := []struct {
		name   string
		server func(t *testing.T) speechServer
		tune   func(*config.Speech)
		want   string
		is     error
		status int
	}{
		{name: "401 without a key", server: func(t *testing.T) speechServer { return fromOpenAITest(openaitest.New(t)) },
			tune: func(c *config.Speech) { c.APIKeyEnv = "" }, want: "openai stt: HTTP 401: ", status: 401},
		{name: "500", server: func(t *testing.T) speechServer { return failingSpeechServer(t, 500, nil) },
			want: "openai stt: HTTP 500: ", status: 500},
		{name: "past the timeout", server: func(t *testing.T) speechServer {
			s := openaitest.New(t)
			s.QueueTranscription("too late", time.Minute)
			return fromOpenAITest(s)
		}, tune: func(c *config.Speech) { c.Timeout = 100 * time.Millisecond },
			want: "openai stt: no answer within 100ms: ", is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stt := newSpeechSTT(t, tt.server(t), tt.tune)
			start := time.Now()
			_, err := transcribe(t.Context(), stt, utterance)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to start with %q", err, tt.want)
			}
			var apiErr *openai.APIError
			if tt.status != 0 && (!errors.As(err, &apiErr) || apiErr.HTTPStatusCode != tt.status) {
				t.Errorf("err %v does not carry the API's error with status %d", err, tt.status)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err %v, want it to wrap %v", err, tt.is)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("failing took %v", d)
			}
		})
	}
}

// TestOpenAISTTBoundsParallelRequests: past max_parallel an utterance
// waits its turn without a request, and gives up when its call ends.
func TestOpenAISTTBoundsParallelRequests(t *testing.T) {
	checkSpeechLeaks(t)
	s := openaitest.New(t)
	s.QueueTranscription("slow", time.Minute)
	stt := newSpeechSTT(t, fromOpenAITest(s), func(c *config.Speech) { c.MaxParallel = 1 })
	utterance := speech.Audio{PCM: sawtooth(1600), Rate: 16000}

	firstCtx, cancelFirst := context.WithCancel(t.Context())
	defer cancelFirst()
	first := make(chan error, 1)
	go func() {
		_, err := transcribe(firstCtx, stt, utterance)
		first <- err
	}()
	pollUntil(t, "the first request", func() bool { return s.Requests() == 1 })

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := transcribe(ctx, stt, utterance)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for a free request slot") {
		t.Errorf("queued utterance: err %v, want its deadline while waiting", err)
	}
	if n := s.Requests(); n != 1 {
		t.Errorf("%d requests, want only the first", n)
	}
	cancelFirst()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first utterance: err %v, want context.Canceled", err)
	}
}

func TestOpenAISTTStreamBounds(t *testing.T) {
	s := openaitest.New(t)
	stt := newSpeechSTT(t, fromOpenAITest(s), nil)
	if _, err := stt.Start(t.Context(), 4000); !errors.Is(err, speech.ErrUnsupportedRate) {
		t.Errorf("4000 Hz: err %v, want ErrUnsupportedRate", err)
	}

	silent, err := stt.Start(t.Context(), 8000)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := silent.Close(); err != nil || got != (speech.Transcript{Confidence: -1}) {
		t.Errorf("empty utterance: %+v, %v", got, err)
	}
	if n := s.Requests(); n != 0 {
		t.Errorf("an empty utterance made %d requests", n)
	}

	long, err := stt.Start(t.Context(), 8000)
	if err != nil {
		t.Fatal(err)
	}
	second := sawtooth(8000)
	for i := range 30 {
		if err := long.Write(second); err != nil {
			t.Fatalf("second %d: %v", i, err)
		}
	}
	if err := long.Write(second[:1]); !errors.Is(err, speech.ErrUtteranceTooLong) {
		t.Errorf("past 30 s: err %v, want ErrUtteranceTooLong", err)
	}
	s.QueueTranscription("a long story", 0)
	got, err := long.Close()
	if err != nil || got.Text != "a long story" || got.Speech != 30*time.Second {
		t.Errorf("long utterance: %+v, %v; want the first 30 s recognised", got, err)
	}
	if sent, err := speech.DecodeWAV(s.Transcriptions()[0]); err != nil || len(sent.PCM) != 30*8000 {
		t.Errorf("sent %d samples (%v), want 30 s", len(sent.PCM), err)
	}
	if err := long.Write(second); err == nil {
		t.Error("Write after Close succeeded")
	}
	if _, err := long.Close(); err == nil {
		t.Error("second Close succeeded")
	}
}

// synthesizeEach collects the chunks of one Synthesize and its error.
func synthesizeEach(ctx context.Context, tts speech.TTS, text string) ([]speech.Audio, error) {
	var out []speech.Audio
	for a, err := range tts.Synthesize(ctx, text) {
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

func TestOpenAITTSYieldsEachSentence(t *testing.T) {
	pcm := sawtooth(2400)
	tests := []struct {
		format     string // config
		serverRate int
		wantFormat openai.SpeechResponseFormat
		wantRate   int
	}{
		{"", 24000, openai.SpeechResponseFormatPcm, 24000},
		{"pcm", 24000, openai.SpeechResponseFormatPcm, 24000},
		{"wav", 16000, openai.SpeechResponseFormatWav, 16000},
		{"wav", 8000, openai.SpeechResponseFormatWav, 8000},
	}
	sentences := []string{"Thanks for calling.", "Your order 1234 has shipped!", "Anything else?"}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q at %d", tt.format, tt.serverRate), func(t *testing.T) {
			s := openaitest.New(t)
			s.SetSpeech(pcm, tt.serverRate, 0)
			tts := newSpeechTTS(t, fromOpenAITest(s), func(c *config.Speech) { c.Format = tt.format })
			got, err := synthesizeEach(t.Context(), tts, strings.Join(sentences, "  "))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(sentences) {
				t.Fatalf("%d chunks, want one per sentence (%d)", len(got), len(sentences))
			}
			for i, a := range got {
				if a.Rate != tt.wantRate || !slices.Equal(a.PCM, pcm) {
					t.Errorf("chunk %d: %d samples at %d Hz, want the server's %d at %d Hz", i, len(a.PCM), a.Rate, len(pcm), tt.wantRate)
				}
			}
			reqs := s.SpeechRequests()
			for i, r := range reqs {
				want := openai.CreateSpeechRequest{Model: "tts-1", Input: sentences[i], Voice: "alloy", ResponseFormat: tt.wantFormat}
				if r != want {
					t.Errorf("request %d = %+v, want %+v", i, r, want)
				}
			}
			if len(reqs) != len(sentences) {
				t.Errorf("%d requests, want %d", len(reqs), len(sentences))
			}
		})
	}
}

// TestOpenAITTSBreakStopsRequests: a consumer that stops after the first
// sentence (the caller barged in) cancels the one request made ahead and
// makes no more; nothing is left running.
func TestOpenAITTSBreakStopsRequests(t *testing.T) {
	checkSpeechLeaks(t)
	s := openaitest.New(t)
	s.SetSpeech(sawtooth(240), 0, 0)
	tts := newSpeechTTS(t, fromOpenAITest(s), nil)
	// The first sentence comes from the cache; the second's request then
	// hangs, so the break finds it in flight.
	if _, err := synthesizeEach(t.Context(), tts, "Hello."); err != nil {
		t.Fatal(err)
	}
	s.SetSpeech(sawtooth(240), 0, time.Minute)
	start := time.Now()
	n := 0
	for _, err := range tts.Synthesize(t.Context(), "Hello. One. Two. Three.") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		pollUntil(t, "the request made ahead", func() bool { return s.Requests() == 2 })
		break
	}
	if n != 1 {
		t.Fatalf("%d chunks before the break", n)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the break took %v: the request ahead was not cancelled", d)
	}
	reqs := s.SpeechRequests()
	if len(reqs) != 2 || reqs[1].Input != "One." {
		t.Errorf("requests %+v, want only Hello. and the one ahead", reqs)
	}
}

func TestOpenAITTSCachesRepeatedSentences(t *testing.T) {
	s := openaitest.New(t)
	pcm := sawtooth(480)
	s.SetSpeech(pcm, 0, 0)
	tts := newSpeechTTS(t, fromOpenAITest(s), nil)
	first, err := synthesizeEach(t.Context(), tts, "Thanks for calling. Goodbye.")
	if err != nil || len(first) != 2 {
		t.Fatalf("%d chunks, %v", len(first), err)
	}
	first[0].PCM[0] = 42 // the consumer's to modify
	again, err := synthesizeEach(t.Context(), tts, "Goodbye. Thanks for calling.")
	if err != nil || len(again) != 2 {
		t.Fatalf("%d chunks, %v", len(again), err)
	}
	if !slices.Equal(again[1].PCM, pcm) || again[1].Rate != 24000 {
		t.Error("cached sentence differs from what the server said")
	}
	if n := len(s.SpeechRequests()); n != 2 {
		t.Errorf("%d requests for two distinct sentences said twice, want 2", n)
	}
}

func TestOpenAITTSFailuresEndTheSequence(t *testing.T) {
	tests := []struct {
		name   string
		server func(t *testing.T) speechServer
		tune   func(*config.Speech)
		ctx    func(t *testing.T) context.Context
		want   string
		is     error
	}{
		{name: "401 without a key", server: func(t *testing.T) speechServer {
			s := openaitest.New(t)
			s.SetSpeech(sawtooth(240), 0, 0)
			return fromOpenAITest(s)
		}, tune: func(c *config.Speech) { c.APIKeyEnv = "" }, want: "openai tts: HTTP 401: "},
		{name: "500", server: func(t *testing.T) speechServer { return failingSpeechServer(t, 500, nil) }, want: "openai tts: HTTP 500: "},
		{name: "past the timeout", server: func(t *testing.T) speechServer {
			s := openaitest.New(t)
			s.SetSpeech(sawtooth(240), 0, time.Minute)
			return fromOpenAITest(s)
		}, tune: func(c *config.Speech) { c.Timeout = 100 * time.Millisecond },
			want: "openai tts: no answer within 100ms: ", is: context.DeadlineExceeded},
		{name: "call ended", server: func(t *testing.T) speechServer {
			s := openaitest.New(t)
			s.SetSpeech(sawtooth(240), 0, time.Minute)
			return fromOpenAITest(s)
		}, ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, want: "openai tts: ", is: context.DeadlineExceeded},
		{name: "no audio", server: func(t *testing.T) speechServer { return fromOpenAITest(openaitest.New(t)) },
			want: "openai tts: no audio for 12 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tts := newSpeechTTS(t, tt.server(t), tt.tune)
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			got, err := synthesizeEach(ctx, tts, "Hello there. How are you?")
			if len(got) != 0 || err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("%d chunks, err %v; want none and an error starting %q", len(got), err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err %v, want it to wrap %v", err, tt.is)
			}
		})
	}
}

func TestOpenAITTSRefusesBadInput(t *testing.T) {
	s := openaitest.New(t)
	tts := newSpeechTTS(t, fromOpenAITest(s), nil)
	if _, err := synthesizeEach(t.Context(), tts, strings.Repeat("Words. ", 1000)); !errors.Is(err, speech.ErrTextTooLong) {
		t.Errorf("long text: err %v, want ErrTextTooLong", err)
	}
	if got, err := synthesizeEach(t.Context(), tts, " ... \n !? "); len(got) != 0 || err != nil {
		t.Errorf("nothing to say: %d chunks, %v", len(got), err)
	}
	if n := s.Requests(); n != 0 {
		t.Errorf("%d requests for text that is not spoken", n)
	}
}

func TestOpenAISpeechConstructorsRefuseBadConfig(t *testing.T) {
	srv := speechServer{URL: "http://127.0.0.1:1/v1"}
	tests := []struct {
		name string
		tune func(*config.Speech)
		want string // for both, or for tts only when tts is set
		tts  bool
	}{
		{name: "key variable named but empty", tune: func(c *config.Speech) {
			c.APIKeyEnv = "SWITCHBOARD_TEST_EMPTY_KEY"
			t.Setenv("SWITCHBOARD_TEST_EMPTY_KEY", "")
		}, want: "environment variable SWITCHBOARD_TEST_EMPTY_KEY (api_key_env) is not set"},
		{name: "no model", tune: func(c *config.Speech) { c.Model = "" }, want: "base_url and model are required"},
		{name: "no base_url", tune: func(c *config.Speech) { c.BaseURL = "" }, want: "base_url and model are required"},
		{name: "no timeout", tune: func(c *config.Speech) { c.Timeout = 0 }, want: "timeout must be positive"},
		{name: "no voice", tune: func(c *config.Speech) { c.Voice = " " }, want: "voice is required", tts: true},
		{name: "mp3", tune: func(c *config.Speech) { c.Format = "mp3" }, want: `format "mp3" is not pcm or wav`, tts: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := speechConfig(t, srv, "some-model", tt.tune)
			_, err := speech.NewOpenAITTS(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), "openai tts: "+tt.want) {
				t.Errorf("tts: err %v, want %q", err, tt.want)
			}
			if tt.tts {
				return
			}
			if _, err := speech.NewOpenAISTT(cfg, nil); err == nil || !strings.Contains(err.Error(), "openai stt: "+tt.want) {
				t.Errorf("stt: err %v, want %q", err, tt.want)
			}
		})
	}
}
