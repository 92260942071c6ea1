package speech

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zaf/g711"
	"go.uber.org/goleak"
)

// fixture reads testdata/audio (made by scripts/make-audio.sh): .wav as
// is, .pcmu and .pcma decoded to 8 kHz PCM as a call's media would.
func fixture(t testing.TB, name string) Audio {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "audio", name))
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(name) {
	case ".pcmu":
		return Audio{PCM: decodeS16LE(g711.DecodeUlaw(b)), Rate: 8000}
	case ".pcma":
		return Audio{PCM: decodeS16LE(g711.DecodeAlaw(b)), Rate: 8000}
	}
	a, err := DecodeWAV(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

func TestPocketsphinxRecognisesFixtures(t *testing.T) {
	p := newTestSphinx(t, PocketsphinxConfig{})
	for _, tc := range []struct{ file, want string }{
		{"human_agent.wav", "human agent"},
		{"close_account.wav", "close my account"},
		{"where_order.wav", "where is my order"},
		{"greeting.wav", "good morning"},
		{"human_agent.pcmu", "human agent"},
		{"close_account.pcma", "close my account"},
		{"where_order.pcmu", "where is my order"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			a := fixture(t, tc.file)
			tr := recognise(t, p, a)
			if !strings.Contains(tr.Text, tc.want) {
				t.Errorf("heard %q, want it to contain %q", tr.Text, tc.want)
			}
			if tr.Confidence <= 0 || tr.Confidence > 1 {
				t.Errorf("confidence %v, want in (0, 1]", tr.Confidence)
			}
			if tr.Speech != a.Duration() || tr.Process <= 0 {
				t.Errorf("speech %v (want %v), process %v", tr.Speech, a.Duration(), tr.Process)
			}
			t.Logf("%q confidence %.2f: %v of speech recognised in %v", tr.Text, tr.Confidence, tr.Speech, tr.Process)
		})
	}
}

// TestPocketsphinxCancelKillsTheProcess cancels while the recogniser still
// waits for its input, so nothing but the kill can end it.
func TestPocketsphinxCancelKillsTheProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to see the process")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newTestSphinx(t, PocketsphinxConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pid := 0
	p.started = func(n int) {
		pid = n
		cancel()
		waitFor(t, "the recogniser to be killed", func() bool { return exited(n) })
	}
	s, err := p.Start(ctx, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(fixture(t, "human_agent.wav").PCM); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close: %v, want context.Canceled", err)
	}
	if pid == 0 {
		t.Fatal("no recogniser started")
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("process %d still exists after Close", pid)
	}
}

// Five callers speak at once with MaxParallel 2: two are recognised as
// they speak, two at their end, and the fifth waits for a free slot.
func TestPocketsphinxBoundsParallelRecognitions(t *testing.T) {
	p := newTestSphinx(t, PocketsphinxConfig{MaxParallel: 2})
	entered := make(chan int, 5)
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	defer unblock()
	p.started = func(pid int) { entered <- pid; <-release }
	a := fixture(t, "where_order.wav")
	results := make(chan error, 5)
	for range 5 {
		go func() {
			s, err := p.Start(context.Background(), a.Rate)
			if err == nil {
				err = s.Write(a.PCM)
			}
			var tr Transcript
			if err == nil {
				tr, err = s.Close()
			}
			if err == nil && !strings.Contains(tr.Text, "order") {
				err = fmt.Errorf("heard %q", tr.Text)
			}
			results <- err
		}()
	}
	for range 4 {
		<-entered
	}
	select {
	case <-entered:
		t.Fatal("a fifth recogniser started while four ran with MaxParallel 2 (two streaming, two batch)")
	case <-time.After(300 * time.Millisecond):
	}
	unblock()
	for range 5 {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
}

func TestPocketsphinxQueuedRecognitionRespectsContext(t *testing.T) {
	p := newTestSphinx(t, PocketsphinxConfig{MaxParallel: 1})
	var runs atomic.Int32
	entered, hold := make(chan struct{}, 2), make(chan struct{})
	p.started = func(int) { runs.Add(1); entered <- struct{}{}; <-hold }
	a := fixture(t, "where_order.wav")
	first := make(chan error, 1)
	go func() {
		s, _ := p.Start(context.Background(), a.Rate)
		_ = s.Write(a.PCM)
		_, err := s.Close()
		first <- err
	}()
	<-entered // the only slot is taken

	ctx, cancel := context.WithCancel(context.Background())
	s, _ := p.Start(ctx, a.Rate)
	_ = s.Write(a.PCM)
	cancel()
	if _, err := s.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("queued Close: %v, want context.Canceled", err)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Error(err)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("%d recognisers ran, want 1 (the cancelled one never starts)", got)
	}
}

func TestPocketsphinxStreamBounds(t *testing.T) {
	p := newTestSphinx(t, PocketsphinxConfig{MaxUtterance: time.Second})
	var runs atomic.Int32
	p.started = func(int) { runs.Add(1) }
	if _, err := p.Start(context.Background(), 44100); !errors.Is(err, ErrUnsupportedRate) {
		t.Errorf("44.1 kHz: %v, want ErrUnsupportedRate", err)
	}

	empty, _ := p.Start(context.Background(), 8000)
	if tr, err := empty.Close(); err != nil || tr.Text != "" || tr.Confidence != -1 || runs.Load() != 0 {
		t.Errorf("empty utterance: %+v, %v, %d runs; want no text, confidence -1, no process", tr, err, runs.Load())
	}
	if _, err := empty.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if err := empty.Write([]int16{1}); err == nil {
		t.Error("Write after Close succeeded")
	}

	s, _ := p.Start(context.Background(), 16000)
	if err := s.Write(make([]int16, 10000)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(make([]int16, 10000)); !errors.Is(err, ErrUtteranceTooLong) {
		t.Errorf("1.25 s with MaxUtterance 1 s: %v, want ErrUtteranceTooLong", err)
	}
	if tr, err := s.Close(); err != nil || tr.Speech != time.Second {
		t.Errorf("Close: %v of speech, %v; want the first 1s recognised", tr.Speech, err)
	}
}

func TestSTTUpsample2x(t *testing.T) {
	for _, tc := range []struct{ in, want []int16 }{
		{nil, []int16{}},
		{[]int16{7}, []int16{7, 7}},
		{[]int16{0, 100, -100}, []int16{0, 50, 100, 0, -100, -100}},
		{[]int16{32767, 32767, -32768}, []int16{32767, 32767, 32767, 0, -32768, -32768}},
	} {
		if got := upsample2x(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("upsample2x(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

const sphinxSample = `i want to speak to a human agent
<s> 0.000 0.200 0.999900
i 0.210 0.330 0.892514
want 0.340 0.620 1.000100
<sil> 0.630 0.710 0.100000
agent 1.670 2.150 0.500000
</s> 2.160 2.400 1.000000
hello
[NOISE] 3.0 3.1 0.2
hello 3.1 3.5 0.75
`

func TestPocketsphinxParseOutput(t *testing.T) {
	for _, tc := range []struct {
		name, out, text string
		conf            float64
	}{
		{"hypotheses and word posteriors", sphinxSample, "i want to speak to a human agent hello", (0.892514 + 1 + 0.5 + 0.75) / 4},
		{"empty", "", "", -1},
		{"noise only", "\n<s> 0.000 0.090 0.999900\n</s> 0.100 0.880 1.000000\n", "", -1},
		{"without -time", "where is my order\n", "where is my order", -1},
		{"not a word line", "call nan nan nan\nbe 1 2 inf\n", "call nan nan nan be 1 2 inf", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, conf := parseSphinxOutput(tc.out)
			if text != tc.text || math.Abs(conf-tc.conf) > 1e-9 {
				t.Errorf("got %q %v, want %q %v", text, conf, tc.text, tc.conf)
			}
		})
	}
}

func FuzzPocketsphinxOutput(f *testing.F) {
	f.Add(sphinxSample)
	f.Add("a 1 2 3\nb -1 0 -5\n")
	f.Fuzz(func(t *testing.T, out string) {
		text, conf := parseSphinxOutput(out)
		if conf != -1 && !(conf >= 0 && conf <= 1) {
			t.Errorf("confidence %v out of range", conf)
		}
		if strings.ContainsAny(text, "\r\n") || text != strings.TrimSpace(text) {
			t.Errorf("text %q is not one trimmed line", text)
		}
	})
}

func BenchmarkPocketsphinxUtterance(b *testing.B) {
	p := newTestSphinx(b, PocketsphinxConfig{})
	a := fixture(b, "human_agent.wav")
	for b.Loop() {
		recognise(b, p, a)
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perOp*1000, "ms/utterance")
	b.ReportMetric(a.Duration().Seconds()/perOp, "x_realtime")
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exited reports whether pid has ended: gone, or a zombie not yet reaped.
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(b), ") ") // the command name may hold spaces
	return strings.HasPrefix(after, "Z")
}

// TestPocketsphinxReportsWhyItFailed: a model folder without a model passes
// the construction check but fails the run, with the recogniser's reason.
func TestPocketsphinxReportsWhyItFailed(t *testing.T) {
	p := newTestSphinx(t, PocketsphinxConfig{HMM: t.TempDir()})
	s, _ := p.Start(context.Background(), 16000)
	_ = s.Write(make([]int16, 1600))
	if _, err := s.Close(); err == nil || !strings.Contains(err.Error(), "mdef") {
		t.Errorf("Close: %v, want pocketsphinx's complaint about the missing mdef", err)
	}
}
