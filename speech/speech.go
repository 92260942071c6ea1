package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os/exec"
	"strings"
	"time"
)

// Audio is mono signed 16-bit PCM at Rate Hz.
type Audio struct {
	PCM  []int16
	Rate int
}

// Duration is how long the audio plays.
func (a Audio) Duration() time.Duration {
	if a.Rate <= 0 {
		return 0
	}
	return time.Duration(len(a.PCM)) * time.Second / time.Duration(a.Rate)
}

// STT turns a caller's speech into text, one utterance at a time.
type STT interface {
	// Start opens a recognition stream for one utterance of PCM at rate Hz.
	// ctx bounds the whole stream, Close included: cancelling it abandons
	// the recognition and stops any process it runs.
	Start(ctx context.Context, rate int) (STTStream, error)
	// Name identifies the provider in logs and metrics.
	Name() string
}

// STTStream receives one utterance. It belongs to one goroutine: Write
// and Close must not be called concurrently.
type STTStream interface {
	// Write adds frames as they arrive. A provider may recognise as it goes
	// or buffer until Close.
	Write(pcm []int16) error
	// Close marks the end of speech and blocks until the final result, or
	// until the ctx given to Start is done.
	Close() (Transcript, error)
}

// Transcript is the result of one utterance.
type Transcript struct {
	Text string
	// Confidence is in [0, 1] when the provider reports one, else -1.
	Confidence float64
	// Speech is the length of the audio recognised.
	Speech time.Duration
	// Wait is how long the utterance queued for a free recogniser, and
	// Process how long recognition took after that: together they are the
	// delay between the end of speech and the result.
	Wait, Process time.Duration
}

// TTS turns the AI's text into audio.
type TTS interface {
	// Synthesize yields the audio of text in order, in chunks (sentences),
	// so a channel can start playing the first while later ones are made.
	// An error ends the sequence as its last item; a consumer that stops
	// early (break) stops the synthesis, and nothing keeps running once the
	// loop is over. The chunks are the consumer's to keep or modify; text
	// with nothing to say yields nothing.
	Synthesize(ctx context.Context, text string) iter.Seq2[Audio, error]
	// Name identifies the provider in logs and metrics.
	Name() string
}

// Errors a speech provider returns for input it refuses.
var (
	ErrTextTooLong      = errors.New("text too long to synthesize")
	ErrUtteranceTooLong = errors.New("utterance too long to recognise")
	ErrUnsupportedRate  = errors.New("unsupported sample rate")
)

// lookBinary resolves a speech tool at construction, so a missing package
// fails the gateway's start rather than the first call.
func lookBinary(name, debPackages string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found; install the Debian package %s: %w", name, debPackages, err)
	}
	return path, nil
}

// Bounds on what a speech tool may print, so a misbehaving binary cannot
// grow the gateway's memory without limit.
const (
	maxToolOutput = 16 << 20
	maxToolStderr = 2 << 10
)

// boundedBuffer keeps the first limit bytes and remembers that it
// overflowed.
type boundedBuffer struct {
	buf      bytes.Buffer
	limit    int
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.buf.Len(); len(p) > room {
		b.overflow = true
		b.buf.Write(p[:max(room, 0)])
		return len(p), nil // keep draining so the tool does not block
	}
	return b.buf.Write(p)
}

// tailBuffer keeps the last limit bytes: tools log progress first and the
// reason they failed last.
type tailBuffer struct {
	buf   []byte
	limit int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.limit {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.limit:]...)
	}
	return len(p), nil
}

// lastLine is the tool's last words on stderr.
func (b *tailBuffer) lastLine() string {
	s := strings.TrimSpace(string(b.buf))
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// runTool runs cmd (made with exec.CommandContext) to completion. When
// started is set it is called with the pid once the process runs; stdin,
// when set, writes the tool's input after that. It returns what the tool
// printed on stdout.
func runTool(ctx context.Context, cmd *exec.Cmd, stdin []byte, started func(pid int)) ([]byte, error) {
	out := &boundedBuffer{limit: maxToolOutput}
	errOut := &tailBuffer{limit: maxToolStderr}
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.WaitDelay = time.Second // a killed tool's pipes must not hold us up
	var in io.WriteCloser
	if stdin != nil {
		var err error
		if in, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if started != nil {
		started(cmd.Process.Pid)
	}
	if in != nil {
		// A write error means the tool died; Wait says why.
		_, _ = in.Write(stdin)
		_ = in.Close()
	}
	return toolOutput(ctx, cmd.Wait(), out, errOut)
}

// toolOutput is what a tool that ended with waitErr printed, or why it
// failed: the context, its last words on stderr, or too much output.
func toolOutput(ctx context.Context, waitErr error, out *boundedBuffer, errOut *tailBuffer) ([]byte, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if waitErr != nil {
		return nil, fmt.Errorf("%w: %s", waitErr, errOut.lastLine())
	}
	if out.overflow {
		return nil, fmt.Errorf("output over %d bytes", maxToolOutput)
	}
	return out.buf.Bytes(), nil
}

var errStreamClosed = errors.New("stt stream already closed")

// bufferedStream is an STTStream for recognisers that take a whole
// utterance: it keeps up to max samples and recognises them at Close.
type bufferedStream struct {
	who       string
	ctx       context.Context
	rate      int
	pcm       []int16
	max       int // samples
	keep      time.Duration
	closed    bool
	recognize func(context.Context, Audio) (Transcript, error)
}

// Write buffers pcm. Past the bound it keeps the start and returns an
// error wrapping ErrUtteranceTooLong; Close still recognises what was kept.
func (s *bufferedStream) Write(pcm []int16) error {
	if s.closed {
		return errStreamClosed
	}
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", s.who, context.Cause(s.ctx))
	}
	if room := s.max - len(s.pcm); len(pcm) > room {
		s.pcm = append(s.pcm, pcm[:room]...)
		return fmt.Errorf("%s: %w (kept %v)", s.who, ErrUtteranceTooLong, s.keep)
	}
	s.pcm = append(s.pcm, pcm...)
	return nil
}

// Close recognises the buffered utterance.
func (s *bufferedStream) Close() (Transcript, error) {
	if s.closed {
		return Transcript{}, errStreamClosed
	}
	s.closed = true
	pcm := s.pcm
	s.pcm = nil
	return s.recognize(s.ctx, Audio{PCM: pcm, Rate: s.rate})
}
