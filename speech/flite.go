package speech

import (
	"container/list"
	"context"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/semaphore"
)

// FliteConfig configures Flite; the zero value is usable.
type FliteConfig struct {
	// Voice is a voice built into flite (flite -lv: slt, kal16, rms, awb,
	// kal) or the path of a .flitevox file; default slt (16 kHz).
	Voice string
	// MaxParallel bounds flite processes at once; 0 = one per CPU.
	MaxParallel int
	// MaxText bounds the bytes of one Synthesize call; 0 = 4000.
	MaxText int
	// CacheBytes bounds the audio kept for repeated sentences (greetings,
	// handoff notices); 0 = 8 MiB, negative = no cache.
	CacheBytes int
	// Binary is the flite executable; default "flite" on PATH.
	Binary string
	Log    *slog.Logger
}

// Flite is the embedded TTS: it runs the flite binary (Debian package
// flite) once per sentence, so the first sentence plays while the next is
// made, and caches sentences it has already said.
type Flite struct {
	bin, voice string
	maxText    int
	sem        *semaphore.Weighted
	cache      *audioCache
	log        *slog.Logger
	started    func(pid int) // test hook: a flite process is running
}

var _ TTS = (*Flite)(nil)

// maxSentence bounds the text of one flite run, so one long sentence does
// not hold back the start of playback.
const maxSentence = 300

// NewFlite finds flite and checks that it has the voice.
func NewFlite(ctx context.Context, cfg FliteConfig) (*Flite, error) {
	cfg = cfg.withDefaults()
	bin, err := lookBinary(cfg.Binary, "flite")
	if err != nil {
		return nil, err
	}
	if err := checkVoice(ctx, bin, cfg.Voice); err != nil {
		return nil, err
	}
	return &Flite{
		bin: bin, voice: cfg.Voice, maxText: cfg.MaxText,
		sem:   semaphore.NewWeighted(int64(cfg.MaxParallel)),
		cache: newAudioCache(cfg.CacheBytes),
		log:   cfg.Log,
	}, nil
}

func (c FliteConfig) withDefaults() FliteConfig {
	if c.Voice == "" {
		c.Voice = "slt"
	}
	if c.MaxParallel <= 0 {
		c.MaxParallel = runtime.NumCPU()
	}
	if c.MaxText <= 0 {
		c.MaxText = 4000
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = 8 << 20
	}
	if c.Binary == "" {
		c.Binary = "flite"
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// checkVoice fails on a voice flite lacks: flite itself would quietly
// speak with its default 8 kHz voice instead.
func checkVoice(ctx context.Context, bin, voice string) error {
	if strings.ContainsRune(voice, os.PathSeparator) || strings.HasSuffix(voice, ".flitevox") {
		if _, err := os.Stat(voice); err != nil {
			return fmt.Errorf("flite voice: %w", err)
		}
		return nil
	}
	out, err := runTool(ctx, exec.CommandContext(ctx, bin, "-lv"), nil, nil)
	if err != nil {
		return fmt.Errorf("flite -lv: %w", err)
	}
	_, list, _ := strings.Cut(string(out), ":")
	if !slices.Contains(strings.Fields(list), voice) {
		return fmt.Errorf("flite has no voice %q (it has: %s)", voice, strings.TrimSpace(list))
	}
	return nil
}

// Name implements TTS.
func (f *Flite) Name() string { return "flite" }

// Synthesize implements TTS. One goroutine makes the sentences at most two
// ahead of the consumer; it ends before the sequence returns.
func (f *Flite) Synthesize(ctx context.Context, text string) iter.Seq2[Audio, error] {
	return func(yield func(Audio, error) bool) {
		if len(text) > f.maxText {
			yield(Audio{}, fmt.Errorf("flite: %d bytes: %w (max %d)", len(text), ErrTextTooLong, f.maxText))
			return
		}
		ahead(ctx, splitSentences(text, maxSentence), f.sentence, "flite", yield)
	}
}

type synthesized struct {
	audio Audio
	err   error
}

// ahead yields the audio of each sentence in order, making the next one
// while the consumer plays the current one (at most buffer sentences
// ahead). A consumer that stops early cancels the work in progress, and
// nothing is left running when ahead returns. who prefixes a cancellation
// error.
func ahead(ctx context.Context, sentences []string, sentence func(context.Context, string) (Audio, error),
	who string, yield func(Audio, error) bool) {
	if len(sentences) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan synthesized) // unbuffered: one sentence in the making while one plays
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(chunks)
		for _, s := range sentences {
			a, err := sentence(ctx, s)
			select {
			case chunks <- synthesized{a, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() { cancel(); <-done }()
	n := 0
	for c := range chunks {
		if !yield(c.audio, c.err) || c.err != nil {
			return
		}
		n++
	}
	if n < len(sentences) { // the producer gave up on a done ctx
		yield(Audio{}, fmt.Errorf("%s: %w", who, context.Cause(ctx)))
	}
}

// sentence returns the audio of one sentence, from the cache or flite.
func (f *Flite) sentence(ctx context.Context, s string) (Audio, error) {
	if a, ok := f.cache.get(s); ok {
		return a, nil
	}
	if err := f.sem.Acquire(ctx, 1); err != nil {
		return Audio{}, fmt.Errorf("flite: waiting for a free synthesizer: %w", err)
	}
	defer f.sem.Release(1)
	start := time.Now()
	// The text is one argument of its own, never seen by a shell; flite
	// writes the WAV to its stdout through /dev/stdout.
	cmd := exec.CommandContext(ctx, f.bin, "-voice", f.voice, "-t", s, "-o", "/dev/stdout")
	out, err := runTool(ctx, cmd, nil, f.started)
	if err != nil {
		return Audio{}, fmt.Errorf("flite: %w", err)
	}
	a, err := DecodeWAV(out)
	if err != nil {
		return Audio{}, fmt.Errorf("flite output: %w", err)
	}
	a.PCM = trimLead(a.PCM, a.Rate)
	f.log.Debug("tts sentence", "tts", f.Name(), "voice", f.voice, "chars", len(s),
		"audio_ms", a.Duration().Milliseconds(), "took_ms", time.Since(start).Milliseconds())
	f.cache.put(s, a)
	return a, nil
}

// Flite starts every sentence with about 220 ms of near silence, which a
// caller hears as the AI being that much slower to answer. trimLead cuts it
// to leadIn before the first sample above leadLevel (flite's lead-in stays
// under 64, about -54 dBFS); the pause after a sentence is kept, so
// sentences still come apart.
const (
	leadLevel = 64
	leadIn    = 30 * time.Millisecond
)

func trimLead(pcm []int16, rate int) []int16 {
	for i, x := range pcm {
		if x > leadLevel || x < -leadLevel {
			return pcm[max(0, i-int(leadIn*time.Duration(rate)/time.Second)):]
		}
	}
	return pcm
}

// splitSentences cuts text into sentences of at most max bytes, so each
// flite run is short, and drops control characters, which flite would
// speak as noise or argv cannot carry (NUL).
func splitSentences(text string, max int) []string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text, " "))
	var out []string
	start := 0
	for i, r := range text {
		end := i + utf8.RuneLen(r)
		next, _ := utf8.DecodeRuneInString(text[end:])
		if r == '\n' || strings.ContainsRune(".!?", r) && (end == len(text) || unicode.IsSpace(next)) {
			out = appendSentence(out, text[start:end], max)
			start = end
		}
	}
	return appendSentence(out, text[start:], max)
}

// appendSentence appends s, cut at spaces into pieces of at most max
// bytes, unless it has nothing to say.
func appendSentence(out []string, s string, max int) []string {
	s = strings.Join(strings.Fields(s), " ")
	for len(s) > max {
		cut := strings.LastIndexByte(s[:max], ' ')
		if cut <= 0 {
			cut = max
			for !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		out = appendSentence(out, s[:cut], max)
		s = strings.TrimSpace(s[cut:])
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		return out
	}
	return append(out, s)
}

// audioCache is an LRU of sentence audio bounded by the bytes of its PCM.
type audioCache struct {
	mu      sync.Mutex
	max     int
	size    int
	order   *list.List // of *cached, most recently used first
	entries map[string]*list.Element
}

type cached struct {
	key   string
	audio Audio
}

func newAudioCache(maxBytes int) *audioCache {
	return &audioCache{max: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

func cost(key string, a Audio) int { return len(key) + 2*len(a.PCM) }

// get returns a copy, so a consumer may change what it plays.
func (c *audioCache) get(key string) (Audio, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return Audio{}, false
	}
	c.order.MoveToFront(e)
	a := e.Value.(*cached).audio
	return Audio{PCM: slices.Clone(a.PCM), Rate: a.Rate}, true
}

func (c *audioCache) put(key string, a Audio) {
	n := cost(key, a)
	if n > c.max {
		return
	}
	a.PCM = slices.Clone(a.PCM)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok { // made twice by concurrent callers
		c.size -= cost(key, e.Value.(*cached).audio)
		c.order.Remove(e)
	}
	c.entries[key] = c.order.PushFront(&cached{key, a})
	c.size += n
	for c.size > c.max {
		old := c.order.Remove(c.order.Back()).(*cached)
		delete(c.entries, old.key)
		c.size -= cost(old.key, old.audio)
	}
}
