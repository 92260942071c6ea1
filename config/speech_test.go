package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The shipped speech lines, under speech:, which the cases below replace.
const (
	shippedSTT = "stt: {kind: pocketsphinx, max_parallel: 0}"
	shippedTTS = "tts: {kind: flite, voice: slt}"
)

// openai is the flow-style line of an openai stt or tts with fields that
// validate, each "key: value" in set replacing a field or adding one.
func openai(role string, set ...string) string {
	fields := []string{"kind: openai", "base_url: https://api.openai.com/v1", "model: whisper-1",
		"api_key_env: OPENAI_API_KEY", "timeout: 10s"}
	if role == "tts" {
		fields = []string{"kind: openai", "base_url: http://127.0.0.1:8000/v1", "model: tts-1", "voice: alloy", "timeout: 10s"}
	}
next:
	for _, kv := range set {
		key, _, _ := strings.Cut(kv, ":")
		for i, f := range fields {
			if strings.HasPrefix(f, key+":") {
				fields[i] = kv
				continue next
			}
		}
		fields = append(fields, kv)
	}
	return role + ": {" + strings.Join(fields, ", ") + "}"
}

func TestSpeechConfigAcceptsEachKind(t *testing.T) {
	tests := []struct {
		name     string
		stt, tts string
		want     func(v SpeechProviders) bool
	}{
		{"shipped embedded", shippedSTT, shippedTTS, func(v SpeechProviders) bool {
			return v.STT.Kind == "pocketsphinx" && v.TTS == Speech{Kind: "flite", Voice: "slt"}
		}},
		{"another flite voice", shippedSTT, "tts: {kind: flite, voice: kal16}", func(v SpeechProviders) bool {
			return v.TTS.Voice == "kal16"
		}},
		{"openai stt with language", openai("stt", "language: en", "max_parallel: 16"), shippedTTS, func(v SpeechProviders) bool {
			return v.STT == Speech{Kind: "openai", BaseURL: "https://api.openai.com/v1", Model: "whisper-1",
				APIKeyEnv: "OPENAI_API_KEY", Timeout: 10 * time.Second, Language: "en", MaxParallel: 16}
		}},
		{"openai tts, keyless local server, default format", shippedSTT, openai("tts"), func(v SpeechProviders) bool {
			return v.TTS == Speech{Kind: "openai", BaseURL: "http://127.0.0.1:8000/v1", Model: "tts-1", Voice: "alloy",
				Timeout: 10 * time.Second}
		}},
		{"openai tts as wav, a voice flite lacks", shippedSTT, openai("tts", "format: wav", "voice: nova"), func(v SpeechProviders) bool {
			return v.TTS.Format == "wav" && v.TTS.Voice == "nova"
		}},
		{"both openai at the timeout bounds", openai("stt", "timeout: 1s"), openai("tts", "timeout: 2m", "format: pcm"), func(v SpeechProviders) bool {
			return v.STT.Timeout == time.Second && v.TTS.Timeout == 2*time.Minute && v.TTS.Format == "pcm"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withSpeech(t, tt.stt, tt.tts)
			cfg, err := Parse("speech.yaml", []byte(text))
			if err != nil {
				t.Fatalf("config refused:\n%v", err)
			}
			if v := cfg.Speech; !tt.want(v) {
				t.Errorf("decoded stt %+v tts %+v", v.STT, v.TTS)
			}
		})
	}
}

func TestSpeechConfigRefusesBadProviders(t *testing.T) {
	tests := []struct {
		name     string
		stt, tts string
		want     []string // key and message fragment of each error, in file order
	}{
		{"unknown stt kind", "stt: {kind: whisper}", shippedTTS,
			[]string{`speech.stt.kind: "whisper" is not one of pocketsphinx, openai`}},
		{"unknown tts kind", shippedSTT, "tts: {kind: espeak, voice: slt}",
			[]string{`speech.tts.kind: "espeak" is not one of flite, openai`}},
		{"openai stt with nothing else", "stt: {kind: openai}", shippedTTS, []string{
			`speech.stt.base_url: "" is not an http(s) URL`,
			"speech.stt.model: is required",
			"speech.stt.timeout: 0s must be between 1s and 2m",
		}},
		{"base_url not http", openai("stt", "base_url: ftp://example.com/v1"), shippedTTS,
			[]string{`speech.stt.base_url: "ftp://example.com/v1" is not an http(s) URL`}},
		{"base_url without host", shippedSTT, openai("tts", "base_url: /v1"),
			[]string{`speech.tts.base_url: "/v1" is not an http(s) URL`}},
		{"key in the file", openai("stt", "api_key_env: sk-proj-abc123"), shippedTTS,
			[]string{"speech.stt.api_key_env: names an environment variable; put the key itself in that variable"}},
		{"timeout too short", openai("stt", "timeout: 500ms"), shippedTTS,
			[]string{"speech.stt.timeout: 500ms must be between 1s and 2m"}},
		{"timeout too long", shippedSTT, openai("tts", "timeout: 5m"),
			[]string{"speech.tts.timeout: 5m0s must be between 1s and 2m"}},
		{"language not a code", openai("stt", "language: English"), shippedTTS,
			[]string{`speech.stt.language: "English" is not an ISO-639-1 language code`}},
		{"format on stt", openai("stt", "format: wav"), shippedTTS,
			[]string{"speech.stt.format: is for tts only"}},
		{"openai tts needs a voice", shippedSTT, openai("tts", `voice: ""`),
			[]string{"speech.tts.voice: is required"}},
		{"openai voice for flite", shippedSTT, "tts: {kind: flite, voice: alloy}",
			[]string{`speech.tts.voice: "alloy" is not one of slt, kal16, rms, awb, kal`}},
		{"format the server cannot give raw", shippedSTT, openai("tts", "format: mp3"),
			[]string{`speech.tts.format: "mp3" is not one of pcm, wav`}},
		{"language on tts", shippedSTT, openai("tts", "language: en"),
			[]string{"speech.tts.language: is for stt only"}},
		{"unknown speech key", openai("stt", "api_key: sk-abc"), shippedTTS,
			[]string{"speech.stt.api_key: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withSpeech(t, tt.stt, tt.tts)
			errs := speechErrors(t, text, len(tt.want))
			line := lineAt(t, text, "  ", tt.stt)
			if strings.Contains(tt.want[0], ".tts.") {
				line = lineAt(t, text, "  ", tt.tts)
			}
			for i, want := range tt.want {
				want = "speech.yaml:" + itoa(line) + ": " + want
				if !strings.HasPrefix(errs[i].Error(), want) {
					t.Errorf("error %d:\n%s\nwant it to start with:\n%s", i, errs[i], want)
				}
			}
		})
	}
}

// speechErrors parses text as speech.yaml and returns its errors, failing
// the test unless there are n.
func speechErrors(t *testing.T, text string, n int) Errors {
	t.Helper()
	_, err := Parse("speech.yaml", []byte(text))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	if len(errs) != n {
		t.Fatalf("%d errors, want %d:\n%v", len(errs), n, errs)
	}
	return errs
}

// withSpeech is the shipped config with its stt and tts lines under speech
// replaced; "" leaves one out.
func withSpeech(t *testing.T, stt, tts string) string {
	t.Helper()
	return withSpeechAt(t, stt, tts, "", "")
}

// withSpeechAt is the shipped config with its stt and tts lines under speech
// (newSTT, newTTS) and under channels.voice, where they were before
// (oldSTT, oldTTS); "" leaves a line out.
func withSpeechAt(t *testing.T, newSTT, newTTS, oldSTT, oldTTS string) string {
	t.Helper()
	text := shipped(t)
	const voiceAnchor = "\n    outbound: "
	for _, line := range []string{"\n  " + shippedSTT, "\n  " + shippedTTS, voiceAnchor} {
		if strings.Count(text, line) != 1 {
			t.Fatalf("the shipped config no longer has the line %q once", line)
		}
	}
	text = strings.Replace(text, "\n  "+shippedSTT, "\n  "+newSTT, 1)
	text = strings.Replace(text, "\n  "+shippedTTS, "\n  "+newTTS, 1)
	for _, line := range []string{oldSTT, oldTTS} {
		if line != "" {
			text = strings.Replace(text, voiceAnchor, "\n    "+line+voiceAnchor, 1)
		}
	}
	return text
}

// lineAt is the line of the first line that is indent and then s.
func lineAt(t *testing.T, text, indent, s string) int {
	t.Helper()
	return lineOf(t, text, "\n"+indent+s) + 1
}

// shippedSpeech is what shippedSTT and shippedTTS decode to.
var shippedSpeech = SpeechProviders{STT: Speech{Kind: "pocketsphinx"}, TTS: Speech{Kind: "flite", Voice: "slt"}}

// TestSpeechConfigReadsMovedKeys: stt and tts still set under
// channels.voice, where they were before speech was shared by every call,
// load into speech, each with a warning naming the key to move it to.
func TestSpeechConfigReadsMovedKeys(t *testing.T) {
	tests := []struct {
		name                           string
		newSTT, newTTS, oldSTT, oldTTS string
		want                           SpeechProviders
		warned                         []string // the old lines warned about, in file order
	}{
		{"new keys, as shipped", shippedSTT, shippedTTS, "", "", shippedSpeech, nil},
		{"both old keys", "", "", shippedSTT, shippedTTS, shippedSpeech, []string{shippedSTT, shippedTTS}},
		{"old stt beside a new tts", "", shippedTTS, openai("stt", "language: en"), "",
			SpeechProviders{STT: Speech{Kind: "openai", BaseURL: "https://api.openai.com/v1", Model: "whisper-1",
				APIKeyEnv: "OPENAI_API_KEY", Timeout: 10 * time.Second, Language: "en"}, TTS: shippedSpeech.TTS},
			[]string{openai("stt", "language: en")}},
		{"old tts beside a new stt", shippedSTT, "", "", "tts: {kind: flite, voice: kal16}",
			SpeechProviders{STT: shippedSpeech.STT, TTS: Speech{Kind: "flite", Voice: "kal16"}},
			[]string{"tts: {kind: flite, voice: kal16}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withSpeechAt(t, tt.newSTT, tt.newTTS, tt.oldSTT, tt.oldTTS)
			cfg, err := Parse("speech.yaml", []byte(text))
			if err != nil {
				t.Fatalf("config refused:\n%v", err)
			}
			if cfg.Speech != tt.want {
				t.Errorf("speech = %+v\nwant     %+v", cfg.Speech, tt.want)
			}
			if v := cfg.Channels.Voice; v.STT != (Speech{}) || v.TTS != (Speech{}) {
				t.Errorf("channels.voice keeps stt %+v tts %+v; only speech should hold them", v.STT, v.TTS)
			}
			if len(cfg.Warnings) != len(tt.warned) {
				t.Fatalf("%d warnings, want %d:\n%v", len(cfg.Warnings), len(tt.warned), cfg.Warnings)
			}
			for i, old := range tt.warned {
				role, _, _ := strings.Cut(old, ":")
				want := fmt.Sprintf("speech.yaml:%d: channels.voice.%s: deprecated: move it to speech.%s",
					lineAt(t, text, "    ", old), role, role)
				if got := cfg.Warnings[i].Error(); !strings.HasPrefix(got, want) {
					t.Errorf("warning %d:\n%s\nwant it to start with:\n%s", i, got, want)
				}
			}
		})
	}
}

// TestSpeechConfigRefusesOldAndNewKeysTogether: a provider set at both
// keys is an error naming both, each with its file and line, since which
// one the admin means is a guess.
func TestSpeechConfigRefusesOldAndNewKeysTogether(t *testing.T) {
	const oldSTT, oldTTS = "stt: {kind: openai}", "tts: {kind: flite, voice: rms}"
	tests := []struct {
		name           string
		oldSTT, oldTTS string
		roles          []string // the providers in error, in file order
	}{
		{"stt", oldSTT, "", []string{"stt"}},
		{"tts", "", oldTTS, []string{"tts"}},
		{"both", oldSTT, oldTTS, []string{"stt", "tts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withSpeechAt(t, shippedSTT, shippedTTS, tt.oldSTT, tt.oldTTS)
			errs := speechErrors(t, text, len(tt.roles))
			lines := map[string][2]string{"stt": {oldSTT, shippedSTT}, "tts": {oldTTS, shippedTTS}}
			for i, role := range tt.roles {
				old, cur := lines[role][0], lines[role][1]
				want := fmt.Sprintf("speech.yaml:%d: channels.voice.%s: speech.yaml:%d: speech.%s is set too; keep only speech.%s",
					lineAt(t, text, "    ", old), role, lineAt(t, text, "  ", cur), role, role)
				if !strings.HasPrefix(errs[i].Error(), want) {
					t.Errorf("error %d:\n%s\nwant it to start with:\n%s", i, errs[i], want)
				}
			}
		})
	}
}

// TestSpeechConfigErrorsNameTheKeyAsWritten: a provider still under
// channels.voice is checked like one under speech, and its errors point at
// the line and key the admin wrote.
func TestSpeechConfigErrorsNameTheKeyAsWritten(t *testing.T) {
	tests := []struct {
		name           string
		oldSTT, oldTTS string
		want           string // the key and the start of the one error, on the old line
	}{
		{"bad kind", "stt: {kind: whisper}", shippedTTS,
			`channels.voice.stt.kind: "whisper" is not one of pocketsphinx, openai`},
		{"openai without its fields", shippedSTT, "tts: {kind: openai, base_url: http://127.0.0.1:8000/v1, model: tts-1, timeout: 5s}",
			"channels.voice.tts.voice: is required"},
		{"unknown key", "stt: {kind: pocketsphinx, api_key: sk-abc}", shippedTTS,
			"channels.voice.stt.api_key: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withSpeechAt(t, "", "", tt.oldSTT, tt.oldTTS)
			errs := speechErrors(t, text, 1)
			old := tt.oldSTT
			if strings.Contains(tt.want, ".tts.") {
				old = tt.oldTTS
			}
			want := fmt.Sprintf("speech.yaml:%d: %s", lineAt(t, text, "    ", old), tt.want)
			if !strings.HasPrefix(errs[0].Error(), want) {
				t.Errorf("error:\n%s\nwant it to start with:\n%s", errs[0], want)
			}
		})
	}
}

// TestSpeechConfigIsCheckedWhileCallsAreOn: with no channel that speaks, a
// config needs no speech section; with calls on it does.
func TestSpeechConfigIsCheckedWhileCallsAreOn(t *testing.T) {
	tests := []struct {
		name    string
		voiceOn bool
		want    string // the start of the first error; "" loads
	}{
		{"calls off", false, ""},
		{"calls on", true, `speech.yaml: speech.stt.kind: "" is not one of pocketsphinx, openai`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withSpeech(t, "", "")
			text = strings.Replace(text, "\nspeech:\n", "\n", 1) // the section goes; its comments stay
			if !tt.voiceOn {
				text = strings.Replace(text, "  voice:\n    enabled: true", "  voice:\n    enabled: false", 1)
			}
			_, err := Parse("speech.yaml", []byte(text))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("config refused:\n%v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Fatalf("err %v\nwant it to start with %s", err, tt.want)
			}
		})
	}
}
