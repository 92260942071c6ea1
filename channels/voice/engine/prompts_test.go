package engine

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
	"testing"

	"switchboard/speech"
)

// countingTTS says every text as two 16 kHz sentences of n samples.
type countingTTS struct {
	calls atomic.Int32
	n     int
}

func (c *countingTTS) Name() string { return "counting" }

func (c *countingTTS) Synthesize(_ context.Context, _ string) iter.Seq2[speech.Audio, error] {
	c.calls.Add(1)
	return func(yield func(speech.Audio, error) bool) {
		for range 2 {
			if !yield(speech.Audio{PCM: make([]int16, c.n), Rate: 16000}, nil) {
				return
			}
		}
	}
}

// A hundred calls starting at once share one synthesis of the greeting per
// sample rate, and the same audio.
func TestPromptsSynthesiseOncePerRate(t *testing.T) {
	tts := &countingTTS{n: 3200}
	p := newPrompts(tts)
	var wg sync.WaitGroup
	got := make([][]int16, 100)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pcm, err := p.get(context.Background(), "Welcome", 8000)
			if err != nil {
				t.Error(err)
			}
			got[i] = pcm
		}()
	}
	wg.Wait()
	if n := tts.calls.Load(); n != 1 {
		t.Fatalf("synthesised %d times, want once", n)
	}
	if len(got[0]) != 3200 { // two 1600-sample halves after 16k -> 8k
		t.Fatalf("len = %d, want 3200", len(got[0]))
	}
	for _, g := range got[1:] {
		if &g[0] != &got[0][0] {
			t.Fatal("calls got private copies")
		}
	}
	if _, err := p.get(context.Background(), "Welcome", 16000); err != nil || tts.calls.Load() != 2 {
		t.Fatalf("another rate: %v, %d syntheses", err, tts.calls.Load())
	}
}
