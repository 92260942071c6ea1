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
	const sk = "sk-proj-Zq81fakeTestKey0123456789abcdef"
	const plain = "k3y-0f-a-local-server-42" // not shaped like a key: only known as the configured one
	tests := []struct {
		name    string
		key     string
		answer  func(auth string) string
		secrets []string // must not appear
	}{
		{"JSON message echoing the header", sk, func(auth string) string {
			return `{"error":{"message":"audio refused for Authorization: ` + auth + `","type":"invalid_request_error"}}`
		}, []string{sk, "Zq81fakeTestKey"}},
		{"bare configured key in plain text", plain, func(auth string) string {
			return "proxy: no route for key " + strings.TrimPrefix(auth, "Bearer ")
		}, []string{plain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := failingSpeechServer(t, 401, tt.answer)
			setKey := func(c *config.Speech) { t.Setenv(testKeyEnv, tt.key) }
			_, sttErr := transcribe(t.Context(), newSpeechSTT(t, srv, setKey), speech.Audio{PCM: sawtooth(800), Rate: 8000})
			_, ttsErr := synthesizeEach(t.Context(), newSpeechTTS(t, srv, setKey), "Hello there.")
			for who, err := range map[string]error{"stt": sttErr, "tts": ttsErr} {
				if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
					t.Fatalf("%s: err %v, want the provider's 401", who, err)
				}
				for _, secret := range tt.secrets {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: %q leaked into %q", who, secret, err)
					}
				}
			}
		})
	}
}
