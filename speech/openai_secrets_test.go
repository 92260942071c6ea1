package speech_test

import (
	"strings"
	"testing"

	"switchboard/config"
	"switchboard/speech"
)

// TestOpenAISpeechErrorsCarryNoCredentials: a provider, or a proxy in front
// of it, that echoes the API key in its error must not put the key in the
// errors the providers return, which the voice channel logs; the status
// still reads through.
func TestOpenAISpeechErrorsCarryNoCredentials(t *testing.T) {
	tests := map[string]struct {
		key    string // configured, and never to appear
		answer func(auth string) string
	}{
		"JSON message echoing the header": {"sk-proj-Zq81fakeTestKey0123456789abcdef", func(auth string) string {
			return `{"error":{"message":"audio refused for Authorization: ` + auth + `","type":"invalid_request_error"}}`
		}},
		// Not shaped like a key: only known as the configured one.
		"bare configured key in plain text": {"k3y-0f-a-local-server-42", func(auth string) string {
			return "proxy: no route for key " + strings.TrimPrefix(auth, "Bearer ")
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			srv := failingSpeechServer(t, 401, tt.answer)
			setKey := func(*config.Speech) { t.Setenv(testKeyEnv, tt.key) }
			_, sttErr := transcribe(t.Context(), newSpeechSTT(t, srv, setKey), speech.Audio{PCM: sawtooth(800), Rate: 8000})
			_, ttsErr := synthesizeEach(t.Context(), newSpeechTTS(t, srv, setKey), "Hello there.")
			for who, err := range map[string]error{"stt": sttErr, "tts": ttsErr} {
				switch {
				case err == nil || !strings.Contains(err.Error(), "HTTP 401"):
					t.Errorf("%s: err %v, want the provider's 401", who, err)
				case strings.Contains(err.Error(), tt.key):
					t.Errorf("%s: the key leaked into %q", who, err)
				}
			}
		})
	}
}
