package speech

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestFliteSynthesizesEachSentenceAt16kHz(t *testing.T) {
	f := newTestFlite(t, FliteConfig{})
	text := "Hello, thank you for calling. How can I help you today?"
	var durations []time.Duration
	for a, err := range f.Synthesize(context.Background(), text) {
		if err != nil {
			t.Fatal(err)
		}
		if a.Rate != 16000 {
			t.Errorf("rate %d, want 16000 (slt)", a.Rate)
		}
		durations = append(durations, a.Duration())
	}
	if len(durations) != 2 {
		t.Fatalf("%d chunks, want one per sentence (2)", len(durations))
	}
	// About 5 words each: 5 words take roughly 1-2 s to say.
	for _, d := range durations {
		if d < 600*time.Millisecond || d > 5*time.Second {
			t.Errorf("sentence of 5 words lasts %v", d)
		}
	}
}

// TestFliteTextIsNotParsedAsOptions would hear kal's 8 kHz voice if the
// text reached flite as options, and a shell would run the commands.
func TestFliteTextIsNotParsedAsOptions(t *testing.T) {
	f := newTestFlite(t, FliteConfig{})
	dir := t.TempDir()
	a, chunks := synthesizeAll(t, f, "-voice kal $(touch "+dir+"/x) `touch "+dir+"/y`")
	if chunks != 1 || a.Rate != 16000 || len(a.PCM) == 0 {
		t.Errorf("%d chunks at %d Hz, want one at 16000", chunks, a.Rate)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the text ran as a command: %v", entries)
	}
}

func TestFliteCachesRepeatedSentences(t *testing.T) {
	f := newTestFlite(t, FliteConfig{})
	var runs atomic.Int32
	f.started = func(int) { runs.Add(1) }
	greeting := "Thank you for calling."
	first, _ := synthesizeAll(t, f, greeting)
	second, _ := synthesizeAll(t, f, greeting+" One moment please.")
	if got := runs.Load(); got != 2 {
		t.Errorf("%d flite runs, want 2 (the greeting once, then the new sentence)", got)
	}
	if !slices.Equal(first.PCM, second.PCM[:len(first.PCM)]) {
		t.Error("cached greeting differs from the first synthesis")
	}
}

func TestFliteCacheEvictsLeastRecentlyUsedByBytes(t *testing.T) {
	c := newAudioCache(3 * (1 + 2*100)) // three one-letter sentences of 100 samples
	a := Audio{PCM: make([]int16, 100), Rate: 16000}
	for _, k := range []string{"a", "b", "c"} {
		c.put(k, a)
	}
	c.get("a") // now b is the least recently used
	c.put("d", a)
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := c.get(k); ok != want {
			t.Errorf("%s cached = %v, want %v", k, ok, want)
		}
	}
	c.put("huge", Audio{PCM: make([]int16, 1000), Rate: 16000})
	if _, ok := c.get("huge"); ok || c.size > c.max {
		t.Errorf("an entry over the bound was cached (size %d of %d)", c.size, c.max)
	}
	got, _ := c.get("a")
	got.PCM[0] = 1
	if again, _ := c.get("a"); again.PCM[0] != 0 {
		t.Error("changing returned audio changed the cache")
	}
}

func TestFliteCancelStopsSynthesis(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newTestFlite(t, FliteConfig{CacheBytes: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.started = func(int) { cancel() }
	var chunks int
	var last error
	for _, err := range f.Synthesize(ctx, "One sentence. Another sentence. A third one.") {
		if err != nil {
			last = err
			continue
		}
		chunks++
	}
	if !errors.Is(last, context.Canceled) || chunks != 0 {
		t.Errorf("%d chunks then %v, want none then context.Canceled", chunks, last)
	}
}

// TestFliteBreakStopsTheProducer: a consumer that stops listening (the
// caller barged in) leaves no goroutine or process behind, and the rest of
// a long answer is not made.
func TestFliteBreakStopsTheProducer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newTestFlite(t, FliteConfig{CacheBytes: -1})
	var runs atomic.Int32
	f.started = func(int) { runs.Add(1) }
	text := strings.Repeat("This is one of many sentences. ", 12)
	for _, err := range f.Synthesize(context.Background(), text) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if got := runs.Load(); got > 3 {
		t.Errorf("%d of 12 sentences made after the consumer stopped at the first; want at most 3", got)
	}
}

func TestFliteRefusesBadInput(t *testing.T) {
	needTool(t, "flite")
	if _, err := NewFlite(context.Background(), FliteConfig{Voice: "nosuchvoice"}); err == nil || !strings.Contains(err.Error(), "nosuchvoice") {
		t.Errorf("unknown voice: %v", err)
	}
	f := newTestFlite(t, FliteConfig{MaxText: 10})
	for _, err := range f.Synthesize(context.Background(), "far more than ten bytes") {
		if !errors.Is(err, ErrTextTooLong) {
			t.Errorf("long text: %v, want ErrTextTooLong", err)
		}
	}
}

func TestFliteSplitSentences(t *testing.T) {
	long := strings.Repeat("word ", 20)
	for _, tc := range []struct {
		name, text string
		max        int
		want       []string
	}{
		{"one", "Hello there.", 300, []string{"Hello there."}},
		{"marks", "Hi! Is it you? Yes.", 300, []string{"Hi!", "Is it you?", "Yes."}},
		{"no split inside numbers", "It costs 3.50 dollars.", 300, []string{"It costs 3.50 dollars."}},
		{"newlines", "line one\nline two", 300, []string{"line one", "line two"}},
		{"nothing to say", "  ... \n ?! ", 300, nil},
		{"empty", "", 300, nil},
		{"control characters", "a\x00b\x1bc.", 300, []string{"a b c."}},
		{"invalid utf-8", "caf\xff ok.", 300, []string{"caf ok."}},
		{"long at spaces", long, 22, []string{"word word word word", "word word word word", "word word word word", "word word word word", "word word word word"}},
		{"long without spaces", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"long multibyte", "ééééé", 3, []string{"é", "é", "é", "é", "é"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := splitSentences(tc.text, tc.max)
			if !slices.Equal(got, tc.want) {
				t.Errorf("splitSentences(%q, %d) = %q, want %q", tc.text, tc.max, got, tc.want)
			}
			for _, s := range got {
				if len(s) > tc.max {
					t.Errorf("%q is over %d bytes", s, tc.max)
				}
			}
		})
	}
}

func BenchmarkFliteSentence(b *testing.B) {
	f := newTestFlite(b, FliteConfig{CacheBytes: -1})
	var audio time.Duration
	for b.Loop() {
		a, _ := synthesizeAll(b, f, "Thank you for calling, how can I help you today?")
		audio += a.Duration()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/sentence")
	b.ReportMetric(audio.Seconds()/b.Elapsed().Seconds(), "x_realtime")
}

func TestTrimLead(t *testing.T) {
	quiet := func(n int) []int16 { return make([]int16, n) }
	for _, tc := range []struct {
		name string
		pcm  []int16
		want int // samples kept
	}{
		{"lead-in cut to 30 ms", append(quiet(4000), 1000, 2000), 240 + 2},
		{"short lead-in kept", append(quiet(100), 1000), 101},
		{"low noise is lead-in", append([]int16{60, -64, 64, 0}, append(quiet(1000), -500)...), 241},
		{"all quiet kept", quiet(500), 500},
		{"empty", nil, 0},
	} {
		if got := len(trimLead(tc.pcm, 8000)); got != tc.want {
			t.Errorf("%s: kept %d samples, want %d", tc.name, got, tc.want)
		}
	}
}
