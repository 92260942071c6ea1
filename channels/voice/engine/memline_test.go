package engine_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"

	"switchboard/channels/voice/engine"
	"switchboard/media"
	"switchboard/speech"
)

// errHungUp ends a memLine the engine hung up.
var errHungUp = errors.New("hung up by the engine")

// memLine is a caller's line in memory: the test sends the caller's frames
// and digits in and reads what the engine played, wrote live and hung up.
// It also serves as the Leg a Dial returns.
type memLine struct {
	rate  int
	audio chan media.Frame
	dtmf  chan rune
	done  chan struct{}
	once  sync.Once
	cause error // set before done closes

	// refer and dial carry out the engine's transfer actions; nil: the
	// line has no such action.
	refer func(context.Context, engine.Transfer) error
	dial  func(context.Context, engine.Transfer) (engine.Leg, error)

	mu      sync.Mutex
	played  int // samples played, at rate
	live    int // samples written live (a bridge's)
	sent    []rune
	hangups int
	stops   int
}

var (
	_ engine.Line = (*memLine)(nil)
	_ engine.Leg  = (*memLine)(nil)
)

func newMemLine(rate int) *memLine {
	return &memLine{rate: rate, audio: make(chan media.Frame), dtmf: make(chan rune, 4), done: make(chan struct{})}
}

func (l *memLine) Audio() <-chan media.Frame { return l.audio }
func (l *memLine) DTMF() <-chan rune         { return l.dtmf }
func (l *memLine) Done() <-chan struct{}     { return l.done }
func (l *memLine) SampleRate() int           { return l.rate }

func (l *memLine) Err() error {
	select {
	case <-l.done:
		return l.cause
	default:
		return nil
	}
}

// end ends the line (the caller hung up, or the engine did).
func (l *memLine) end(cause error) {
	l.once.Do(func() { l.cause = cause; close(l.done) })
}

func (l *memLine) WriteFrame(pcm []int16, rate int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live += len(pcm) * l.rate / rate
}

func (l *memLine) SendDigit(d rune) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, d)
	return nil
}

// Play takes the audio at once: the engine's timing is not under test.
func (l *memLine) Play(ctx context.Context, pcm []int16, rate int) error {
	if err := l.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.played += len(pcm) * l.rate / rate
	return nil
}

func (l *memLine) StopPlayback() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stops++
}

func (l *memLine) Hangup(context.Context) error {
	l.mu.Lock()
	l.hangups++
	l.mu.Unlock()
	l.end(errHungUp)
	return nil
}

func (l *memLine) Refer(ctx context.Context, t engine.Transfer) error {
	if l.refer == nil {
		return fmt.Errorf("refer: %w", errors.ErrUnsupported)
	}
	return l.refer(ctx, t)
}

func (l *memLine) Dial(ctx context.Context, t engine.Transfer) (engine.Leg, error) {
	if l.dial == nil {
		return nil, fmt.Errorf("dial: %w", errors.ErrUnsupported)
	}
	return l.dial(ctx, t)
}

// say sends the caller's audio in 20 ms frames, as a line delivers it.
func (l *memLine) say(ctx context.Context, pcm []int16) error {
	n := l.rate / 50
	for i := 0; i+n <= len(pcm); i += n {
		select {
		case l.audio <- media.Frame{PCM: pcm[i : i+n], Rate: l.rate}:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			return l.cause
		}
	}
	return nil
}

func (l *memLine) counts() (played, live, hangups int, sent []rune) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.played, l.live, l.hangups, append([]rune(nil), l.sent...)
}

// heardSTT recognises every utterance as text, and records the rate each
// stream was started at and the samples written to it.
type heardSTT struct {
	text    string
	mu      sync.Mutex
	rates   []int
	samples int
	frames  map[int]bool // frame lengths seen
}

func (s *heardSTT) Name() string { return "heard" }

func (s *heardSTT) Start(_ context.Context, rate int) (speech.STTStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rates = append(s.rates, rate)
	if s.frames == nil {
		s.frames = map[int]bool{}
	}
	return heardStream{s}, nil
}

type heardStream struct{ s *heardSTT }

func (w heardStream) Write(pcm []int16) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.samples += len(pcm)
	w.s.frames[len(pcm)] = true
	return nil
}

func (w heardStream) Close() (speech.Transcript, error) {
	return speech.Transcript{Text: w.s.text, Confidence: -1}, nil
}

// toneTTS speaks every text as 200 ms of a 440 Hz tone at 16 kHz.
type toneTTS struct{}

func (toneTTS) Name() string { return "tone" }

func (toneTTS) Synthesize(context.Context, string) iter.Seq2[speech.Audio, error] {
	return func(yield func(speech.Audio, error) bool) {
		yield(speech.Audio{PCM: tone(16000, 3200), Rate: 16000}, nil)
	}
}

func tone(rate, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return pcm
}
