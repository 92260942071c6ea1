package gateway

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// The fixture's speech lines, under speech:.
const (
	fixtureSTT = "stt: {kind: pocketsphinx, max_parallel: 0}"
	fixtureTTS = "tts: {kind: flite, voice: slt}"
)

// speechUnderVoice moves the fixture's speech lines to channels.voice,
// where configs written before the speech section set them, as stt and tts.
func speechUnderVoice(t *testing.T, path, stt, tts string) {
	t.Helper()
	edit(t, path, "\n  "+fixtureSTT, "\n")
	edit(t, path, "\n  "+fixtureTTS, "\n")
	edit(t, path, "\n    outbound: ", "\n    "+stt+"\n    "+tts+"\n    outbound: ")
}

// TestSpeechAtItsOldKeysBuildsTheProviders: stt under channels.voice is
// the recogniser the gateway builds, not a value read and then ignored.
func TestSpeechAtItsOldKeysBuildsTheProviders(t *testing.T) {
	cfg := fixture(t)
	t.Setenv("SWITCHBOARD_TEST_UNSET_KEY", "")
	speechUnderVoice(t, cfg, "stt: {kind: openai, base_url: http://127.0.0.1:1/v1, model: whisper-1, "+
		"api_key_env: SWITCHBOARD_TEST_UNSET_KEY, timeout: 5s}", fixtureTTS)
	_, err := New(t.Context(), Options{ConfigPath: cfg, HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DataDir: t.TempDir()},
		slog.New(slog.DiscardHandler))
	want := "speech recognition: openai stt: environment variable SWITCHBOARD_TEST_UNSET_KEY (api_key_env) is not set"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New: %v\nwant an error containing %q", err, want)
	}
}

// TestSpeechAtItsOldKeysWarnsAtStartAndReload: a gateway whose config sets
// speech under channels.voice starts, and says at start and at each reload
// which key to move it to; a reload that sets a provider at both keys is
// rejected and the config in force stays.
func TestSpeechAtItsOldKeysWarnsAtStartAndReload(t *testing.T) {
	cfg := fixture(t)
	speechUnderVoice(t, cfg, fixtureSTT, fixtureTTS)
	var logs syncBuffer
	g, err := New(t.Context(), Options{ConfigPath: cfg, HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DataDir: t.TempDir()},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := g.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if n := strings.Count(logs.String(), `level=WARN msg="config warning" file=`+cfg+" line="); n != 2 {
		t.Errorf("start: %d config warnings, want one for stt and one for tts:\n%s", n, logs.String())
	}
	for _, want := range []string{
		`key=channels.voice.stt warning="deprecated: move it to speech.stt`,
		`key=channels.voice.tts warning="deprecated: move it to speech.tts`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start: no warning %q:\n%s", want, logs.String())
		}
	}
	if got := g.Config().Speech.TTS; got.Kind != "flite" || got.Voice != "slt" {
		t.Errorf("speech.tts in force %+v, want flite slt from channels.voice.tts", got)
	}

	if err := g.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if n := strings.Count(logs.String(), "key=channels.voice.stt warning="); n != 2 {
		t.Errorf("%d stt warnings after a reload, want 2 (start and reload):\n%s", n, logs.String())
	}

	edit(t, cfg, "\nspeech:\n", "\nspeech:\n  "+fixtureSTT+"\n")
	err = g.Reload()
	if err == nil || !strings.Contains(err.Error(), "channels.voice.stt: "+cfg+":") ||
		!strings.Contains(err.Error(), "speech.stt is set too") {
		t.Fatalf("reload with stt at both keys: %v", err)
	}
	if got := g.Config().Speech.STT.Kind; got != "pocketsphinx" {
		t.Errorf("a rejected reload left speech.stt %q", got)
	}
}
