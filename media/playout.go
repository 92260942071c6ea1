package media

import (
	"context"
	"fmt"
	"sync"
)

// liveFrames bounds the audio WriteFrame may have waiting, in packets: a
// bridge must not build up delay when the two legs' clocks drift apart.
const liveFrames = 4

// playout holds what the tx goroutine sends instead of silence: queued
// utterances from Play and the live stream from WriteFrame, mixed.
type playout struct {
	mu    sync.Mutex
	queue []*utterance
	// live is a ring of samples from WriteFrame at the codec's rate.
	live        []int16
	liveHead    int
	liveLen     int
	liveScratch []int16    // resampled input
	resampler   *Resampler // keeps filter history across WriteFrame calls
	rsFrom      int
	rsTo        int
	mix         []int16
}

type utterance struct {
	pcm  []int16
	off  int
	done chan error // buffered; receives exactly one result
}

// Play sends pcm (at rate Hz, resampled to the codec's rate if needed)
// after the audio queued before it, paced at one packet per ptime. It
// returns nil once the last packet is sent, ErrInterrupted when
// StopPlayback dropped it, the context's cause when ctx ends first
// (its audio is dropped), or the session's error when it ends.
func (s *Session) Play(ctx context.Context, pcm []int16, rate int) error {
	if !s.started.Load() {
		return ErrNotStarted
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("play: %w", err)
	}
	if rate <= 0 {
		return fmt.Errorf("play: bad sample rate %d", rate)
	}
	if len(pcm) == 0 {
		return nil
	}
	if to := s.sendRate(); rate != to {
		pcm = Resample(nil, pcm, rate, to)
	}
	u := &utterance{pcm: pcm, done: make(chan error, 1)}
	s.play.mu.Lock()
	idle := len(s.play.queue) == 0 && s.play.liveLen == 0
	s.play.queue = append(s.play.queue, u)
	s.play.mu.Unlock()
	if idle {
		// The sender is sending silence: have it start this now rather
		// than at its next tick, up to a packet time away. A reply's first
		// packet is what a caller waits for.
		select {
		case s.spurt <- struct{}{}:
		default:
		}
	}
	select {
	case err := <-u.done:
		return err
	case <-ctx.Done():
		if s.play.remove(u) {
			return context.Cause(ctx)
		}
	case <-s.ctx.Done():
		if s.play.remove(u) {
			return fmt.Errorf("play: %w", s.Err())
		}
	}
	return <-u.done // it finished while we were giving up on it
}

// StopPlayback drops all queued audio now (barge-in); the Play calls that
// queued it return ErrInterrupted. The live stream of WriteFrame is kept.
func (s *Session) StopPlayback() { s.play.interrupt(ErrInterrupted) }

// WriteFrame queues one frame of live audio (a bridge's) to be sent with
// the next packets, without waiting. Unlike Play it has no utterance to
// finish: when frames come faster than they are sent, the oldest samples
// are dropped so that delay stays under liveFrames packets.
func (s *Session) WriteFrame(pcm []int16, rate int) {
	to, frame := s.sendRate(), s.sendFrame()
	if to == 0 || rate <= 0 {
		return // not started
	}
	p := &s.play
	p.mu.Lock()
	defer p.mu.Unlock()
	if rate != to {
		if p.resampler == nil || p.rsFrom != rate || p.rsTo != to {
			p.resampler, p.rsFrom, p.rsTo = NewResampler(rate, to), rate, to
		}
		p.liveScratch = p.resampler.Process(p.liveScratch[:0], pcm)
		pcm = p.liveScratch
	}
	p.writeLive(pcm, liveFrames*frame)
}

func (s *Session) sendRate() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enc == nil {
		return 0
	}
	return s.enc.SampleRate()
}

func (s *Session) sendFrame() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enc == nil {
		return 0
	}
	return samples(s.enc.SampleRate(), s.cfg.Ptime)
}

func (p *playout) writeLive(pcm []int16, size int) {
	if len(p.live) != size {
		p.live, p.liveHead, p.liveLen = make([]int16, size), 0, 0
	}
	if len(pcm) > size {
		pcm = pcm[len(pcm)-size:]
	}
	if over := p.liveLen + len(pcm) - size; over > 0 {
		p.liveHead = (p.liveHead + over) % size
		p.liveLen -= over
	}
	tail := (p.liveHead + p.liveLen) % size
	n := copy(p.live[tail:], pcm)
	copy(p.live, pcm[n:])
	p.liveLen += len(pcm)
}

// next fills dst with the next packet's audio, live and queued mixed, and
// reports false when there is none (the sender then sends silence).
func (p *playout) next(dst []int16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	have := false
	if p.liveLen >= len(dst) {
		n := copy(dst, p.live[p.liveHead:])
		copy(dst[n:], p.live)
		p.liveHead = (p.liveHead + len(dst)) % len(p.live)
		p.liveLen -= len(dst)
		have = true
	}
	if len(p.queue) == 0 {
		return have
	}
	u := p.queue[0]
	if !have {
		n := copy(dst, u.pcm[u.off:])
		clear(dst[n:])
		u.off += n
	} else {
		u.off += mixInto(dst, u.pcm[u.off:])
	}
	if u.off >= len(u.pcm) {
		p.queue[0] = nil
		p.queue = p.queue[1:]
		u.done <- nil
	}
	return true
}

// mixInto adds src to dst, saturating, and returns the samples used.
func mixInto(dst, src []int16) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = int16(max(min(int32(dst[i])+int32(src[i]), 32767), -32768))
	}
	return n
}

func (p *playout) remove(u *utterance) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, q := range p.queue {
		if q == u {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			return true
		}
	}
	return false
}

// unstarted reports whether queued audio waits with none of it sent yet.
func (p *playout) unstarted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue) > 0 && p.queue[0].off == 0
}

// interrupt ends every queued utterance with err.
func (p *playout) interrupt(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.queue {
		u.done <- err
	}
	clear(p.queue)
	p.queue = p.queue[:0]
}
