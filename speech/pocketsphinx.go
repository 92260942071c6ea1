package speech

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"
)

// DebianPocketsphinxModel is where the Debian package pocketsphinx-en-us
// puts the US English model.
const DebianPocketsphinxModel = "/usr/share/pocketsphinx/model/en-us"

// PocketsphinxConfig configures Pocketsphinx; the zero value uses the
// Debian en-us model.
type PocketsphinxConfig struct {
	// MaxParallel bounds recognitions at once, so a burst of calls cannot
	// fork a process each; 0 = one per CPU. The others wait their turn.
	// Utterances recognised as they are spoken have as many slots again of
	// their own (a process holds one for the whole utterance, using a
	// fraction of a core; each costs about 100 MB); an utterance that finds
	// them taken is recognised at its end in a MaxParallel slot instead.
	MaxParallel int
	// MaxUtterance bounds the audio kept per utterance; 0 = 30 s.
	MaxUtterance time.Duration
	// HMM, LM and Dict are the acoustic model folder, language model and
	// dictionary; default the files of DebianPocketsphinxModel.
	HMM, LM, Dict string
	// Binary is the recogniser; default "pocketsphinx_continuous" on PATH.
	Binary string
	Log    *slog.Logger
}

// Pocketsphinx is the embedded STT: pocketsphinx_continuous, fed the
// utterance as it is spoken when a streaming slot is free, else over the
// whole utterance at its end (see sphinxStream).
//
// The en-us model is a 16 kHz one. 8 kHz audio (PCMU/PCMA calls) is
// upsampled by plain linear interpolation, not a proper low-pass resampler:
// the images that interpolation leaves above 4 kHz stand in for the band
// the model expects, and recognise far better than an empty band (with a
// clean resampler, or -samprate 8000, the test phrases come out as
// nonsense). Even so, 8 kHz recognises worse than 16 kHz (G.722).
type Pocketsphinx struct {
	bin          string
	args         []string
	maxUtterance time.Duration
	sem          *semaphore.Weighted // batch recognitions
	streams      *semaphore.Weighted // recognitions fed as the caller speaks
	log          *slog.Logger
	started      func(pid int) // test hook: a recogniser process is running
}

var _ STT = (*Pocketsphinx)(nil)

// NewPocketsphinx finds pocketsphinx_continuous and its model.
func NewPocketsphinx(cfg PocketsphinxConfig) (*Pocketsphinx, error) {
	cfg = cfg.withDefaults()
	bin, err := lookBinary(cfg.Binary, "pocketsphinx pocketsphinx-en-us")
	if err != nil {
		return nil, err
	}
	for _, f := range []string{cfg.HMM, cfg.LM, cfg.Dict} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("pocketsphinx model; install the Debian package pocketsphinx-en-us: %w", err)
		}
	}
	return &Pocketsphinx{
		bin: bin,
		// Raw s16le at 16 kHz on stdin (no temporary file); -time yes adds
		// word posteriors, the source of Transcript.Confidence. The log
		// stays on stderr: its last line says why a run failed.
		args: []string{"-infile", "/dev/stdin", "-samprate", "16000", "-time", "yes",
			"-hmm", cfg.HMM, "-lm", cfg.LM, "-dict", cfg.Dict},
		maxUtterance: cfg.MaxUtterance,
		sem:          semaphore.NewWeighted(int64(cfg.MaxParallel)),
		streams:      semaphore.NewWeighted(int64(cfg.MaxParallel)),
		log:          cfg.Log,
	}, nil
}

func (c PocketsphinxConfig) withDefaults() PocketsphinxConfig {
	if c.MaxParallel <= 0 {
		c.MaxParallel = runtime.NumCPU()
	}
	if c.MaxUtterance <= 0 {
		c.MaxUtterance = 30 * time.Second
	}
	if c.HMM == "" {
		c.HMM = filepath.Join(DebianPocketsphinxModel, "en-us")
	}
	if c.LM == "" {
		c.LM = filepath.Join(DebianPocketsphinxModel, "en-us.lm.bin")
	}
	if c.Dict == "" {
		c.Dict = filepath.Join(DebianPocketsphinxModel, "cmudict-en-us.dict")
	}
	if c.Binary == "" {
		c.Binary = "pocketsphinx_continuous"
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Name implements STT.
func (p *Pocketsphinx) Name() string { return "pocketsphinx" }

// Start implements STT for 8000 and 16000 Hz.
func (p *Pocketsphinx) Start(ctx context.Context, rate int) (STTStream, error) {
	if rate != 8000 && rate != 16000 {
		return nil, fmt.Errorf("pocketsphinx: %d Hz: %w (8000 or 16000)", rate, ErrUnsupportedRate)
	}
	return p.newStream(ctx, rate), nil
}

// buffered is the batch stream, for when no streaming slot is free.
func (p *Pocketsphinx) buffered(ctx context.Context, rate int) *bufferedStream {
	return &bufferedStream{who: "pocketsphinx", ctx: ctx, rate: rate, max: int(p.maxUtterance.Seconds() * float64(rate)),
		keep: p.maxUtterance, recognize: p.recognize}
}

func (p *Pocketsphinx) recognize(ctx context.Context, a Audio) (Transcript, error) {
	t := Transcript{Confidence: -1, Speech: a.Duration()}
	if len(a.PCM) == 0 {
		return t, nil
	}
	pcm := a.PCM
	if a.Rate == 8000 {
		pcm = upsample2x(pcm)
	}
	queued := time.Now()
	if err := p.sem.Acquire(ctx, 1); err != nil {
		return t, fmt.Errorf("pocketsphinx: waiting for a free recogniser: %w", err)
	}
	defer p.sem.Release(1)
	start := time.Now()
	t.Wait = start.Sub(queued)
	cmd := exec.CommandContext(ctx, p.bin, p.args...)
	out, err := runTool(ctx, cmd, appendS16LE(make([]byte, 0, 2*len(pcm)), pcm), p.started)
	t.Process = time.Since(start)
	if err != nil {
		return t, fmt.Errorf("pocketsphinx: %w", err)
	}
	t.Text, t.Confidence = parseSphinxOutput(string(out))
	p.log.Debug("stt utterance", "stt", p.Name(), "mode", "batch", "rate", a.Rate, "speech_ms", t.Speech.Milliseconds(),
		"wait_ms", t.Wait.Milliseconds(), "process_ms", t.Process.Milliseconds(), "confidence", t.Confidence)
	return t, nil
}

// upsample2x doubles the rate by linear interpolation; see Pocketsphinx
// for why not a low-pass resampler.
func upsample2x(in []int16) []int16 {
	out := make([]int16, 2*len(in))
	for i, s := range in {
		next := s
		if i+1 < len(in) {
			next = in[i+1]
		}
		out[2*i] = s
		out[2*i+1] = int16((int32(s) + int32(next)) / 2)
	}
	return out
}

// parseSphinxOutput reads pocketsphinx_continuous -time yes output: per
// stretch of speech, a line with the hypothesis, then one line per word,
// "word start end posterior". The text is the hypotheses joined; the
// confidence is the mean posterior of the real words, -1 without any.
func parseSphinxOutput(out string) (string, float64) {
	var hyps []string
	sum, n := 0.0, 0
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if word, p, ok := sphinxWordTime(f); ok {
			if !sphinxFiller(word) {
				sum += p
				n++
			}
			continue
		}
		hyps = append(hyps, strings.Join(f, " "))
	}
	if n == 0 {
		return strings.Join(hyps, " "), -1
	}
	return strings.Join(hyps, " "), sum / float64(n)
}

// sphinxWordTime parses a word line. No dictionary word is a number, so a
// hypothesis line cannot be taken for one.
func sphinxWordTime(f []string) (string, float64, bool) {
	if len(f) != 4 {
		return "", 0, false
	}
	var v [3]float64
	for i := range v {
		x, err := strconv.ParseFloat(f[i+1], 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return "", 0, false
		}
		v[i] = x
	}
	return f[0], min(max(v[2], 0), 1), true // posteriors come out a hair over 1
}

// sphinxFiller reports sentence marks, silence and noise "words".
func sphinxFiller(w string) bool {
	return strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "+")
}
