package speech

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// needTool skips a test when a speech binary is missing, unless
// SWITCHBOARD_NO_SKIP=1 asks for every test to run.
func needTool(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
				t.Fatalf("%s is missing and SWITCHBOARD_NO_SKIP=1: %v", name, err)
			}
			t.Skipf("%s is missing: %v", name, err)
		}
	}
}

func newTestFlite(t testing.TB, cfg FliteConfig) *Flite {
	t.Helper()
	needTool(t, "flite")
	f, err := NewFlite(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newTestSphinx(t testing.TB, cfg PocketsphinxConfig) *Pocketsphinx {
	t.Helper()
	needTool(t, "pocketsphinx_continuous")
	p, err := NewPocketsphinx(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// synthesizeAll collects every chunk of text; all chunks share one rate.
func synthesizeAll(t testing.TB, tts TTS, text string) (Audio, int) {
	t.Helper()
	var all Audio
	chunks := 0
	for a, err := range tts.Synthesize(context.Background(), text) {
		if err != nil {
			t.Fatalf("synthesize %q: %v", text, err)
		}
		if all.Rate != 0 && a.Rate != all.Rate {
			t.Fatalf("chunk rate %d after %d", a.Rate, all.Rate)
		}
		all.Rate = a.Rate
		all.PCM = append(all.PCM, a.PCM...)
		chunks++
	}
	return all, chunks
}

// recognise sends a in 20 ms frames, as a call's media would.
func recognise(t testing.TB, stt STT, a Audio) Transcript {
	t.Helper()
	s, err := stt.Start(context.Background(), a.Rate)
	if err != nil {
		t.Fatal(err)
	}
	frame := a.Rate / 50
	for i := 0; i < len(a.PCM); i += frame {
		if err := s.Write(a.PCM[i:min(i+frame, len(a.PCM))]); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := s.Close()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSpeechMissingBinaryNamesPackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, ferr := NewFlite(context.Background(), FliteConfig{})
	_, perr := NewPocketsphinx(PocketsphinxConfig{})
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ferr, "install the Debian package flite"},
		{perr, "install the Debian package pocketsphinx pocketsphinx-en-us"},
	} {
		if !errors.Is(tc.err, exec.ErrNotFound) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v: want exec.ErrNotFound naming %q", tc.err, tc.want)
		}
	}
}

func TestSpeechMissingModelNamesPackage(t *testing.T) {
	needTool(t, "pocketsphinx_continuous")
	_, err := NewPocketsphinx(PocketsphinxConfig{HMM: t.TempDir() + "/none"})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
		t.Errorf("error %v: want ErrNotExist naming pocketsphinx-en-us", err)
	}
}

// TestSpeechRoundTrip says a sentence with flite and hears it back with
// pocketsphinx, at the wideband rate and through the 8 kHz path that
// PCMU/PCMA calls take.
func TestSpeechRoundTrip(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	stt := newTestSphinx(t, PocketsphinxConfig{})
	for _, tc := range []struct {
		voice, text, want string
		rate              int
	}{
		{"slt", "Please transfer me to a human agent.", "human agent", 16000},
		{"kal", "I would like to close my account.", "close my account", 8000},
	} {
		t.Run(tc.voice, func(t *testing.T) {
			a, _ := synthesizeAll(t, newTestFlite(t, FliteConfig{Voice: tc.voice}), tc.text)
			if a.Rate != tc.rate {
				t.Fatalf("flite %s made %d Hz, want %d", tc.voice, a.Rate, tc.rate)
			}
			tr := recognise(t, stt, a)
			if !strings.Contains(tr.Text, tc.want) {
				t.Errorf("heard %q, want it to contain %q", tr.Text, tc.want)
			}
			t.Logf("%q -> %q (confidence %.2f, %v of speech in %v)", tc.text, tr.Text, tr.Confidence, tr.Speech, tr.Process)
		})
	}
}

func TestSpeechAudioDuration(t *testing.T) {
	for _, tc := range []struct {
		a    Audio
		want string
	}{
		{Audio{PCM: make([]int16, 16000), Rate: 16000}, "1s"},
		{Audio{PCM: make([]int16, 160), Rate: 8000}, "20ms"},
		{Audio{PCM: make([]int16, 10)}, "0s"},
	} {
		if got := tc.a.Duration().String(); got != tc.want {
			t.Errorf("%d samples at %d Hz: %s, want %s", len(tc.a.PCM), tc.a.Rate, got, tc.want)
		}
	}
}

func TestSpeechToolStderrKeepsTheTail(t *testing.T) {
	b := &tailBuffer{limit: 64}
	for range 100 {
		_, _ = b.Write([]byte("INFO: loading the model\n"))
	}
	_, _ = b.Write([]byte("ERROR: no such model\n"))
	if got := b.lastLine(); got != "ERROR: no such model" {
		t.Errorf("last line %q", got)
	}
	if len(b.buf) > 2*b.limit {
		t.Errorf("kept %d bytes, limit %d", len(b.buf), b.limit)
	}
}
