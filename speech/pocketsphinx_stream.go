package speech

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// sphinxStream recognises one utterance. At its first audio it takes a
// streaming slot if one is free and feeds pocketsphinx_continuous as the
// caller speaks: the model loads and the decoder keeps up meanwhile, so at
// the end of speech only the last moments are left (tens of milliseconds,
// against half a second and more for a process started then). Without a
// free slot it buffers the utterance and recognises it at Close, as a
// batch, like a provider that takes whole files.
type sphinxStream struct {
	p    *Pocketsphinx
	ctx  context.Context
	rate int

	batch *bufferedStream // when no streaming slot was free
	live  *sphinxProc     // when one was
	n     int             // samples written
	max   int
	done  bool
}

func (p *Pocketsphinx) newStream(ctx context.Context, rate int) *sphinxStream {
	return &sphinxStream{p: p, ctx: ctx, rate: rate, max: int(p.maxUtterance.Seconds() * float64(rate))}
}

// Write hands pcm to the recogniser without waiting for it. Past the
// bound it keeps the start and returns an error wrapping
// ErrUtteranceTooLong; Close still recognises what was kept.
func (s *sphinxStream) Write(pcm []int16) error {
	switch {
	case s.done:
		return errStreamClosed
	case s.batch != nil:
		return s.batch.Write(pcm)
	}
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("pocketsphinx: %w", context.Cause(s.ctx))
	}
	if s.live == nil {
		if !s.p.streams.TryAcquire(1) {
			s.batch = s.p.buffered(s.ctx, s.rate)
			return s.batch.Write(pcm)
		}
		live, err := s.p.startProc(s.ctx, s.rate)
		if err != nil {
			// Not again for every frame: the batch run at Close will try
			// once more and say what is wrong.
			s.p.streams.Release(1)
			s.p.log.Warn("pocketsphinx: could not start a streaming recogniser; recognising at the end", "error", err)
			s.batch = s.p.buffered(s.ctx, s.rate)
			return s.batch.Write(pcm)
		}
		s.live = live
	}
	var tooLong error
	if room := s.max - s.n; len(pcm) > room {
		pcm = pcm[:room]
		tooLong = fmt.Errorf("pocketsphinx: %w (kept %v)", ErrUtteranceTooLong, s.p.maxUtterance)
	}
	s.n += len(pcm)
	s.live.feed(pcm)
	return tooLong
}

// Close marks the end of speech and waits for the transcript.
func (s *sphinxStream) Close() (Transcript, error) {
	if s.done {
		return Transcript{}, errStreamClosed
	}
	s.done = true
	switch {
	case s.batch != nil:
		return s.batch.Close()
	case s.live == nil: // nothing was said
		return Transcript{Confidence: -1}, nil
	}
	end := time.Now()
	out, err := s.live.finish(s.ctx)
	t := Transcript{Confidence: -1, Speech: time.Duration(s.n) * time.Second / time.Duration(s.rate), Process: time.Since(end)}
	if err != nil {
		return t, fmt.Errorf("pocketsphinx: %w", err)
	}
	t.Text, t.Confidence = parseSphinxOutput(string(out))
	s.p.log.Debug("stt utterance", "stt", s.p.Name(), "mode", "stream", "rate", s.rate, "speech_ms", t.Speech.Milliseconds(),
		"process_ms", t.Process.Milliseconds(), "confidence", t.Confidence)
	return t, nil
}

// sphinxProc is a running recogniser fed from a queue: the call's audio
// loop must never block on the process's pipe.
type sphinxProc struct {
	in     io.WriteCloser
	out    *boundedBuffer
	errOut *tailBuffer
	up     upsampler // 8 kHz calls: the model is a 16 kHz one

	mu     sync.Mutex
	queue  []byte
	spare  []byte
	closed bool
	wake   chan struct{}
	exited chan struct{} // closed once the process is waited for
	err    error         // from Wait, read after exited
}

// startProc starts the recogniser for a stream that holds a slot; the
// slot is released when the process has ended, however it ends.
func (p *Pocketsphinx) startProc(ctx context.Context, rate int) (*sphinxProc, error) {
	cmd := exec.CommandContext(ctx, p.bin, p.args...)
	sp := &sphinxProc{out: &boundedBuffer{limit: maxToolOutput}, errOut: &tailBuffer{limit: maxToolStderr},
		up: upsampler{on: rate == 8000}, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = sp.out, sp.errOut
	cmd.WaitDelay = time.Second // a killed tool's pipes must not hold us up
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	sp.in = in
	if p.started != nil {
		p.started(cmd.Process.Pid)
	}
	go sp.pump()
	go func() {
		sp.err = cmd.Wait()
		close(sp.exited)
		p.streams.Release(1)
	}()
	return sp, nil
}

// feed queues audio for the pump.
func (sp *sphinxProc) feed(pcm []int16) {
	sp.mu.Lock()
	sp.queue = sp.up.appendS16LE(sp.queue, pcm)
	sp.mu.Unlock()
	sp.poke()
}

func (sp *sphinxProc) poke() {
	select {
	case sp.wake <- struct{}{}:
	default:
	}
}

// pump writes the queue to the process until the stream is closed, then
// closes its input: end of speech. A write error means the process died;
// Wait says why.
func (sp *sphinxProc) pump() {
	defer sp.in.Close()
	for {
		sp.mu.Lock()
		buf, closed := sp.queue, sp.closed
		sp.queue, sp.spare = sp.spare[:0], buf
		sp.mu.Unlock()
		if len(buf) > 0 {
			if _, err := sp.in.Write(buf); err != nil {
				return
			}
			continue // more may have come meanwhile
		}
		if closed {
			return
		}
		select {
		case <-sp.wake:
		case <-sp.exited:
			return
		}
	}
}

// finish ends the input and waits for what the recogniser printed.
func (sp *sphinxProc) finish(ctx context.Context) ([]byte, error) {
	sp.mu.Lock()
	sp.queue = sp.up.flush(sp.queue)
	sp.closed = true
	sp.mu.Unlock()
	sp.poke()
	// A cancelled ctx has the process killed (and WaitDelay bounds its
	// pipes), so this wait is short either way; nothing is left behind.
	<-sp.exited
	return toolOutput(ctx, sp.err, sp.out, sp.errOut)
}

// upsampler doubles 8 kHz to 16 kHz across a stream's frames exactly as
// upsample2x does for a whole utterance: each sample is followed by its
// mean with the next, the last by itself.
type upsampler struct {
	on   bool
	prev int16
	have bool
}

func (u *upsampler) appendS16LE(dst []byte, pcm []int16) []byte {
	if !u.on {
		return appendS16LE(dst, pcm)
	}
	for _, s := range pcm {
		if u.have {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(u.prev))
			dst = binary.LittleEndian.AppendUint16(dst, uint16((int32(u.prev)+int32(s))/2))
		}
		u.prev, u.have = s, true
	}
	return dst
}

func (u *upsampler) flush(dst []byte) []byte {
	if !u.on || !u.have {
		return dst
	}
	u.have = false
	dst = binary.LittleEndian.AppendUint16(dst, uint16(u.prev))
	return binary.LittleEndian.AppendUint16(dst, uint16(u.prev))
}
