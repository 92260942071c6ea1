package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The shipped speech lines, which the cases below replace.
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
		want     func(v VoiceChannel) bool
	}{
		{"shipped embedded", shippedSTT, shippedTTS, func(v VoiceChannel) bool {
			return v.STT.Kind == "pocketsphinx" && v.TTS == Speech{Kind: "flite", Voice: "slt"}
		}},
		{"another flite voice", shippedSTT, "tts: {kind: flite, voice: kal16}", func(v VoiceChannel) bool {
			return v.TTS.Voice == "kal16"
		}},
		{"openai stt with language", openai("stt", "language: en", "max_parallel: 16"), shippedTTS, func(v VoiceChannel) bool {
			return v.STT == Speech{Kind: "openai", BaseURL: "https://api.openai.com/v1", Model: "whisper-1",
				APIKeyEnv: "OPENAI_API_KEY", Timeout: 10 * time.Second, Language: "en", MaxParallel: 16}
		}},
		{"openai tts, keyless local server, default format", shippedSTT, openai("tts"), func(v VoiceChannel) bool {
			return v.TTS == Speech{Kind: "openai", BaseURL: "http://127.0.0.1:8000/v1", Model: "tts-1", Voice: "alloy",
				Timeout: 10 * time.Second}
		}},
		{"openai tts as wav, a voice flite lacks", shippedSTT, openai("tts", "format: wav", "voice: nova"), func(v VoiceChannel) bool {
			return v.TTS.Format == "wav" && v.TTS.Voice == "nova"
		}},
		{"both openai at the timeout bounds", openai("stt", "timeout: 1s"), openai("tts", "timeout: 2m", "format: pcm"), func(v VoiceChannel) bool {
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
			if v := cfg.Channels.Voice; !tt.want(v) {
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
			[]string{`channels.voice.stt.kind: "whisper" is not one of pocketsphinx, openai`}},
		{"unknown tts kind", shippedSTT, "tts: {kind: espeak, voice: slt}",
			[]string{`channels.voice.tts.kind: "espeak" is not one of flite, openai`}},
		{"openai stt with nothing else", "stt: {kind: openai}", shippedTTS, []string{
			`channels.voice.stt.base_url: "" is not an http(s) URL`,
			"channels.voice.stt.model: is required",
			"channels.voice.stt.timeout: 0s must be between 1s and 2m",
		}},
		{"base_url not http", openai("stt", "base_url: ftp://example.com/v1"), shippedTTS,
			[]string{`channels.voice.stt.base_url: "ftp://example.com/v1" is not an http(s) URL`}},
		{"base_url without host", shippedSTT, openai("tts", "base_url: /v1"),
			[]string{`channels.voice.tts.base_url: "/v1" is not an http(s) URL`}},
		{"key in the file", openai("stt", "api_key_env: sk-proj-abc123"), shippedTTS,
			[]string{"channels.voice.stt.api_key_env: names an environment variable; put the key itself in that variable"}},
		{"timeout too short", openai("stt", "timeout: 500ms"), shippedTTS,
			[]string{"channels.voice.stt.timeout: 500ms must be between 1s and 2m"}},
		{"timeout too long", shippedSTT, openai("tts", "timeout: 5m"),
			[]string{"channels.voice.tts.timeout: 5m0s must be between 1s and 2m"}},
		{"language not a code", openai("stt", "language: English"), shippedTTS,
			[]string{`channels.voice.stt.language: "English" is not an ISO-639-1 language code`}},
		{"format on stt", openai("stt", "format: wav"), shippedTTS,
			[]string{"channels.voice.stt.format: is for tts only"}},
		{"openai tts needs a voice", shippedSTT, openai("tts", `voice: ""`),
			[]string{"channels.voice.tts.voice: is required"}},
		{"openai voice for flite", shippedSTT, "tts: {kind: flite, voice: alloy}",
			[]string{`channels.voice.tts.voice: "alloy" is not one of slt, kal16, rms, awb, kal`}},
		{"format the server cannot give raw", shippedSTT, openai("tts", "format: mp3"),
			[]string{`channels.voice.tts.format: "mp3" is not one of pcm, wav`}},
		{"language on tts", shippedSTT, openai("tts", "language: en"),
			[]string{"channels.voice.tts.language: is for stt only"}},
		{"unknown speech key", openai("stt", "api_key: sk-abc"), shippedTTS,
			[]string{"channels.voice.stt.api_key: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := withSpeech(t, tt.stt, tt.tts)
			_, err := Parse("speech.yaml", []byte(text))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want config.Errors, got %v", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(errs), len(tt.want), errs)
			}
			line := lineOf(t, text, "    "+tt.stt)
			if strings.Contains(tt.want[0], ".tts.") {
				line = lineOf(t, text, "    "+tt.tts)
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

// withSpeech is the shipped config with its stt and tts lines replaced.
func withSpeech(t *testing.T, stt, tts string) string {
	t.Helper()
	text := shipped(t)
	for _, line := range []string{shippedSTT, shippedTTS} {
		if strings.Count(text, "    "+line) != 1 {
			t.Fatalf("the shipped config no longer has the line %q", line)
		}
	}
	text = strings.Replace(text, "    "+shippedSTT, "    "+stt, 1)
	return strings.Replace(text, "    "+shippedTTS, "    "+tts, 1)
}
