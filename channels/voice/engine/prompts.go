package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"

	"switchboard/media"
	"switchboard/speech"
)

// maxPrompts bounds the prompt cache: a few configured texts at two or
// three sample rates, with room for reloads that change them.
const maxPrompts = 64

// prompts holds what the AI says on every call (the greeting, the handoff
// notices) synthesised once per sample rate and shared read-only by all
// calls. At a thousand calls, a private copy of the greeting each would be
// most of a call's memory. Concurrent first requests synthesise once.
type prompts struct {
	tts    speech.TTS
	mu     sync.Mutex
	audio  map[string][]int16
	flight singleflight.Group
}

func newPrompts(tts speech.TTS) *prompts {
	return &prompts{tts: tts, audio: make(map[string][]int16)}
}

// get returns text's audio at rate. The slice is shared: callers must not
// modify it (Line.Play must only read what it is given).
func (p *prompts) get(ctx context.Context, text string, rate int) ([]int16, error) {
	key := strconv.Itoa(rate) + "\x00" + text
	p.mu.Lock()
	pcm, ok := p.audio[key]
	p.mu.Unlock()
	if ok {
		return pcm, nil
	}
	v, err, _ := p.flight.Do(key, func() (any, error) {
		// Detached from the first caller's ctx: the others waiting on the
		// same prompt must not fail because that caller hung up.
		pcm, err := p.synthesize(context.WithoutCancel(ctx), text, rate)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		if len(p.audio) >= maxPrompts {
			clear(p.audio) // texts changed by reloads; the current ones come back on first use
		}
		p.audio[key] = pcm
		p.mu.Unlock()
		return pcm, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]int16), nil
}

func (p *prompts) synthesize(ctx context.Context, text string, rate int) ([]int16, error) {
	var out []int16
	for a, err := range p.tts.Synthesize(ctx, text) {
		if err != nil {
			return nil, fmt.Errorf("synthesise prompt: %w", err)
		}
		if a.Rate != rate {
			a.PCM = media.Resample(nil, a.PCM, a.Rate, rate)
		}
		out = append(out, a.PCM...)
	}
	return out, nil
}
