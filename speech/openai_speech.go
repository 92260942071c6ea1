package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/sync/semaphore"

	"switchboard/config"
	"switchboard/internal/openaiapi"
)

// openAIPCMRate is the rate of OpenAI's "pcm" speech, 24 kHz mono s16le:
// the raw format carries no header to say so.
const openAIPCMRate = 24000

// Bounds of the OpenAI speech providers, as the embedded ones have.
const (
	openAIMaxUtterance = 30 * time.Second
	openAIMaxText      = 4000    // bytes of one Synthesize call
	openAITTSCache     = 8 << 20 // bytes of audio kept for repeated sentences
)

// OpenAIOption sets an optional part of an OpenAI speech provider.
type OpenAIOption func(*openAIOptions)

type openAIOptions struct {
	httpClient *http.Client
}

// WithHTTPClient makes the provider talk through a copy of c, such as
// a test server's client; without it the provider builds its own.
func WithHTTPClient(c *http.Client) OpenAIOption {
	return func(o *openAIOptions) { o.httpClient = c }
}

// speechAPI is what the OpenAI STT and TTS share: a client for the API,
// the model, and the bounds on their requests.
type speechAPI struct {
	who     string // "openai stt" or "openai tts", which starts every error
	client  *openai.Client
	secrets openaiapi.Redactor // applied to every error of client
	model   string
	timeout time.Duration
	sem     *semaphore.Weighted
}

// newSpeechAPI builds the client (see openaiapi.NewClient for the key).
func newSpeechAPI(who string, cfg config.Speech, opts []OpenAIOption) (speechAPI, error) {
	switch {
	case cfg.BaseURL == "" || cfg.Model == "":
		return speechAPI{}, fmt.Errorf("%s: base_url and model are required", who)
	case cfg.Timeout <= 0:
		return speechAPI{}, fmt.Errorf("%s: timeout must be positive", who)
	}
	var o openAIOptions
	for _, opt := range opts {
		opt(&o)
	}
	// The request's timeout bounds dialling too: no connect timeout.
	client, secrets, err := openaiapi.NewClient(who, cfg.BaseURL, cfg.APIKeyEnv, openaiapi.HTTPClient(o.httpClient, 0))
	if err != nil {
		return speechAPI{}, err
	}
	parallel := cfg.MaxParallel
	if parallel <= 0 {
		parallel = runtime.NumCPU()
	}
	return speechAPI{who: who, client: client, secrets: secrets, model: cfg.Model,
		timeout: cfg.Timeout, sem: semaphore.NewWeighted(int64(parallel))}, nil
}

// do runs one request: it waits for a free slot, then gives req a context
// that ends after the timeout. It returns how long it waited. There are no
// retries: a caller is waiting on the line, and a retry after a timeout
// would keep them waiting twice as long.
func (a speechAPI) do(ctx context.Context, req func(context.Context) error) (time.Duration, error) {
	queued := time.Now()
	if err := a.sem.Acquire(ctx, 1); err != nil {
		return time.Since(queued), fmt.Errorf("%s: waiting for a free request slot: %w", a.who, err)
	}
	defer a.sem.Release(1)
	wait := time.Since(queued)
	reqCtx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	err := a.secrets.Redact(req(reqCtx))
	switch {
	case err == nil:
		return wait, nil
	case ctx.Err() != nil:
		return wait, fmt.Errorf("%s: %w", a.who, context.Cause(ctx))
	case reqCtx.Err() != nil:
		if !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return wait, fmt.Errorf("%s: no answer within %v: %w", a.who, a.timeout, err)
	}
	if status := openaiapi.StatusOf(err); status != 0 {
		return wait, fmt.Errorf("%s: HTTP %d: %w", a.who, status, err)
	}
	return wait, fmt.Errorf("%s: %w", a.who, err)
}

// OpenAISTT recognises speech with an OpenAI-compatible transcription API
// (/v1/audio/transcriptions: Whisper or a server speaking its wire format).
// Like Pocketsphinx it buffers an utterance and recognises it at its end:
// the audio goes up as a WAV at the call's own rate, which such servers
// resample themselves. It is safe for concurrent use.
type OpenAISTT struct {
	api      speechAPI
	language string
	log      *slog.Logger
}

var _ STT = (*OpenAISTT)(nil)

// NewOpenAISTT builds the recogniser from the speech.stt config (kind
// openai); log nil discards.
func NewOpenAISTT(cfg config.Speech, log *slog.Logger, opts ...OpenAIOption) (*OpenAISTT, error) {
	api, err := newSpeechAPI("openai stt", cfg, opts)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OpenAISTT{api: api, language: cfg.Language, log: log}, nil
}

// Name implements STT.
func (p *OpenAISTT) Name() string { return "openai" }

// Start implements STT for the rates telephony and WebRTC use, 8 to 48 kHz.
func (p *OpenAISTT) Start(ctx context.Context, rate int) (STTStream, error) {
	if rate < 8000 || rate > 48000 {
		return nil, fmt.Errorf("%s: %d Hz: %w (8000 to 48000)", p.api.who, rate, ErrUnsupportedRate)
	}
	return &bufferedStream{who: p.api.who, ctx: ctx, rate: rate, keep: openAIMaxUtterance,
		max: int(openAIMaxUtterance.Seconds() * float64(rate)), recognize: p.recognize}, nil
}

func (p *OpenAISTT) recognize(ctx context.Context, a Audio) (Transcript, error) {
	t := Transcript{Confidence: -1, Speech: a.Duration()}
	if len(a.PCM) == 0 {
		return t, nil
	}
	wav := EncodeWAV(a)
	var resp openai.AudioResponse
	start := time.Now()
	wait, err := p.api.do(ctx, func(ctx context.Context) error {
		var err error
		resp, err = p.api.client.CreateTranscription(ctx, openai.AudioRequest{
			Model: p.api.model, FilePath: "utterance.wav", Reader: bytes.NewReader(wav),
			Format: openai.AudioResponseFormatJSON, Language: p.language,
		})
		return err
	})
	t.Wait, t.Process = wait, time.Since(start)-wait
	if err != nil {
		return t, err
	}
	t.Text = strings.TrimSpace(resp.Text)
	p.log.Debug("stt utterance", "stt", p.Name(), "model", p.api.model, "rate", a.Rate,
		"speech_ms", t.Speech.Milliseconds(), "wait_ms", t.Wait.Milliseconds(), "process_ms", t.Process.Milliseconds())
	return t, nil
}

// OpenAITTS speaks with an OpenAI-compatible speech API (/v1/audio/speech),
// one request per sentence like Flite's runs, so the first sentence plays
// while the next is made; it caches sentences it has already said. It
// asks for raw audio, pcm (24 kHz) or wav, never a codec the gateway would
// have to decode. It is safe for concurrent use.
type OpenAITTS struct {
	api    speechAPI
	voice  string
	format openai.SpeechResponseFormat
	cache  *audioCache
	log    *slog.Logger
}

var _ TTS = (*OpenAITTS)(nil)

// NewOpenAITTS builds the synthesizer from the speech.tts config (kind
// openai); log nil discards.
func NewOpenAITTS(cfg config.Speech, log *slog.Logger, opts ...OpenAIOption) (*OpenAITTS, error) {
	api, err := newSpeechAPI("openai tts", cfg, opts)
	if err != nil {
		return nil, err
	}
	format := openai.SpeechResponseFormat(cfg.Format)
	switch format {
	case "":
		format = openai.SpeechResponseFormatPcm
	case openai.SpeechResponseFormatPcm, openai.SpeechResponseFormatWav:
	default:
		return nil, fmt.Errorf("openai tts: format %q is not pcm or wav", cfg.Format)
	}
	if strings.TrimSpace(cfg.Voice) == "" {
		return nil, errors.New("openai tts: voice is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OpenAITTS{api: api, voice: cfg.Voice, format: format, cache: newAudioCache(openAITTSCache), log: log}, nil
}

// Name implements TTS.
func (p *OpenAITTS) Name() string { return "openai" }

// Synthesize implements TTS. One goroutine requests the sentences at most
// one ahead of the consumer; it ends before the sequence returns, its
// request cancelled if the consumer stopped early.
func (p *OpenAITTS) Synthesize(ctx context.Context, text string) iter.Seq2[Audio, error] {
	return func(yield func(Audio, error) bool) {
		if len(text) > openAIMaxText {
			yield(Audio{}, fmt.Errorf("%s: %d bytes: %w (max %d)", p.api.who, len(text), ErrTextTooLong, openAIMaxText))
			return
		}
		ahead(ctx, splitSentences(text, maxSentence), p.sentence, p.api.who, yield)
	}
}

// sentence returns the audio of one sentence, from the cache or the API.
func (p *OpenAITTS) sentence(ctx context.Context, s string) (Audio, error) {
	if a, ok := p.cache.get(s); ok {
		return a, nil
	}
	var a Audio
	start := time.Now()
	wait, err := p.api.do(ctx, func(ctx context.Context) error {
		var err error
		a, err = p.speech(ctx, s)
		return err
	})
	if err != nil {
		return Audio{}, err
	}
	p.log.Debug("tts sentence", "tts", p.Name(), "model", p.api.model, "voice", p.voice, "chars", len(s),
		"audio_ms", a.Duration().Milliseconds(), "wait_ms", wait.Milliseconds(), "took_ms", time.Since(start).Milliseconds())
	p.cache.put(s, a)
	return a, nil
}

// speech makes one request and decodes its answer.
func (p *OpenAITTS) speech(ctx context.Context, s string) (Audio, error) {
	resp, err := p.api.client.CreateSpeech(ctx, openai.CreateSpeechRequest{
		Model: openai.SpeechModel(p.api.model), Input: s, Voice: openai.SpeechVoice(p.voice), ResponseFormat: p.format,
	})
	if err != nil {
		return Audio{}, err
	}
	defer resp.Close()
	body, err := io.ReadAll(io.LimitReader(resp, MaxWAVBytes+1))
	switch {
	case err != nil:
		return Audio{}, fmt.Errorf("reading the audio: %w", err)
	case len(body) > MaxWAVBytes:
		return Audio{}, fmt.Errorf("audio over %d bytes for %d characters", MaxWAVBytes, len(s))
	}
	a := Audio{Rate: openAIPCMRate}
	if p.format == openai.SpeechResponseFormatWav {
		if a, err = DecodeWAV(body); err != nil {
			return Audio{}, fmt.Errorf("speech answer: %w", err)
		}
	} else {
		a.PCM = decodeS16LE(body) // an odd last byte is half a sample
	}
	if len(a.PCM) == 0 {
		return Audio{}, fmt.Errorf("no audio for %d characters", len(s))
	}
	return a, nil
}
