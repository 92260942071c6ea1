package config

import (
	"fmt"
	"regexp"
	"time"
)

// SpeechProviders is the top-level speech section: one recogniser and one
// synthesiser, shared by every call, a phone call or a browser's.
type SpeechProviders struct {
	STT Speech `yaml:"stt" json:"stt"`
	TTS Speech `yaml:"tts" json:"tts"`
}

// Speech chooses a speech provider (STT or TTS): the embedded one
// (pocketsphinx, flite) or an OpenAI-compatible speech API ("openai").
type Speech struct {
	Kind        string `yaml:"kind" json:"kind"`                 // stt: pocketsphinx or openai; tts: flite or openai
	Voice       string `yaml:"voice" json:"voice"`               // tts voice: flite's slt, or the API's, e.g. alloy
	MaxParallel int    `yaml:"max_parallel" json:"max_parallel"` // recognitions or syntheses at once; 0 = CPUs

	// The fields below are for kind "openai": OpenAI itself, or a local
	// server speaking its audio API (a Whisper or TTS server).
	BaseURL string `yaml:"base_url" json:"base_url"` // e.g. https://api.openai.com/v1
	Model   string `yaml:"model" json:"model"`       // e.g. whisper-1, tts-1
	// APIKeyEnv names the environment variable holding the API key; the key
	// itself never goes in the file. Empty for a local server without keys.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// Timeout bounds one request: an utterance's transcription, or one
	// sentence's speech.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Language is the caller's language as an ISO-639-1 code (en), for stt;
	// empty lets the provider detect it.
	Language string `yaml:"language" json:"language"`
	// Format is the audio asked for, for tts: pcm (24 kHz, OpenAI's raw
	// format) or wav (at whatever rate the server makes); empty means pcm.
	Format string `yaml:"format" json:"format"`
}

// movedKeys maps a new key to the old one a file set it with.
type movedKeys map[string]string

// asWritten is key as the file wrote it: under its old name if it was read
// from there, so that a problem names the line the reader has to change.
func (m movedKeys) asWritten(key string) string {
	for newKey, oldKey := range m {
		if within(key, newKey) {
			return oldKey + key[len(newKey):]
		}
	}
	return key
}

// moveSpeech reads each speech provider still set at its old key, under
// channels.voice from when only phone calls spoke, into the speech section,
// with a warning naming the new key; it leaves the old field empty so that
// nothing reads it there. Both keys set is an error: which one the file
// means is a guess this does not make.
func (w *walker) moveSpeech(cfg *Config) movedKeys {
	moves := []struct {
		old, new string
		from, to *Speech
	}{
		{"channels.voice.stt", "speech.stt", &cfg.Channels.Voice.STT, &cfg.Speech.STT},
		{"channels.voice.tts", "speech.tts", &cfg.Channels.Voice.TTS, &cfg.Speech.TTS},
	}
	moved := movedKeys{}
	for _, m := range moves {
		oldLine, atOld := w.lines[m.old]
		newLine, atNew := w.lines[m.new]
		switch {
		case !atOld:
		case atNew:
			w.add(oldLine, m.old, fmt.Sprintf("%s:%d: %s is set too; keep only %s (speech is shared by every call now)",
				w.file, newLine, m.new, m.new))
		default:
			w.warnings = append(w.warnings, FieldError{File: w.file, Line: oldLine, Key: m.old,
				Msg: fmt.Sprintf("deprecated: move it to %s (speech is shared by every call now); read from here until then", m.new)})
			*m.to = *m.from
			moved[m.new] = m.old
		}
		*m.from = Speech{}
	}
	return moved
}

var (
	fliteVoices  = []string{"slt", "kal16", "rms", "awb", "kal"}
	languageCode = regexp.MustCompile(`^[a-z]{2,3}$`)
)

// validateSpeech checks the speech providers. It is called only while a
// channel that speaks is enabled: a config without calls needs none.
func validateSpeech(c *checker, s SpeechProviders) {
	validateSTT(c, s.STT)
	validateTTS(c, s.TTS)
}

func validateSTT(c *checker, s Speech) {
	const k = "speech.stt."
	validateProvider(c, k, s, "pocketsphinx")
	if s.Language != "" && !languageCode.MatchString(s.Language) {
		c.addf(k+"language", "%q is not an ISO-639-1 language code like en", s.Language)
	}
	if s.Format != "" {
		c.addf(k+"format", "is for tts only: recognition always sends WAV")
	}
}

func validateTTS(c *checker, s Speech) {
	const k = "speech.tts."
	validateProvider(c, k, s, "flite")
	switch s.Kind {
	case "flite":
		c.oneOf(k+"voice", s.Voice, fliteVoices)
	case "openai":
		c.required(k+"voice", s.Voice) // the API's own names (alloy, ...), which vary by provider
		if s.Format != "" && s.Format != "pcm" && s.Format != "wav" {
			c.addf(k+"format", "%q is not one of pcm, wav", s.Format)
		}
	}
	if s.Language != "" {
		c.addf(k+"language", "is for stt only: the voice speaks the language of the text")
	}
}

// validateProvider checks a speech provider: embedded is the kind that
// needs no account, and "openai" an OpenAI-compatible audio API.
func validateProvider(c *checker, key string, s Speech, embedded string) {
	c.oneOf(key+"kind", s.Kind, []string{embedded, "openai"})
	if s.Kind == "openai" {
		validateOpenAIAPI(c, key, s.BaseURL, s.Model, s.APIKeyEnv, s.Timeout)
	}
}
