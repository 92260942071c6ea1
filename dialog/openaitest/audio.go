package openaitest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// openAIPCMRate is the sample rate of OpenAI's "pcm" speech: 24 kHz mono
// s16le. The wire carries no rate, so a client must know it.
const openAIPCMRate = 24000

type transcription struct {
	text  string
	delay time.Duration
}

type speechAudio struct {
	pcm   []int16
	rate  int
	delay time.Duration
}

// QueueTranscription queues the text of a coming /v1/audio/transcriptions
// answer, sent after delay; first in first out. When the queue is empty
// the text is "". The "text" response format ends the text with a newline,
// as OpenAI's does; "srt" and "vtt" are answered 400.
func (s *Server) QueueTranscription(text string, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transcripts = append(s.transcripts, transcription{text: text, delay: delay})
}

// Transcriptions returns the audio files received for transcription (the
// bytes of each multipart "file" part), in order.
func (s *Server) Transcriptions() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.audioFiles...)
}

// SetSpeech sets the audio /v1/audio/speech returns, after delay, for every
// request from now on. response_format "pcm" gets the samples as raw s16le,
// as OpenAI does; OpenAI's pcm is 24 kHz, but the bytes are whatever was
// set here at whatever rate, which the raw format cannot tell. "wav" gets a
// mono 16-bit WAV at rate (0 means 24000). Any other format, OpenAI's
// default mp3 included, is answered 400: this server encodes no codecs.
// Until SetSpeech is called the audio is empty.
func (s *Server) SetSpeech(pcm []int16, rate int, delay time.Duration) {
	if rate <= 0 {
		rate = openAIPCMRate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.speech = speechAudio{pcm: append([]int16(nil), pcm...), rate: rate, delay: delay}
}

// SpeechRequests returns every speech request received and decoded, in order.
func (s *Server) SpeechRequests() []openai.CreateSpeechRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openai.CreateSpeechRequest(nil), s.speechRequests...)
}

func (s *Server) handleTranscription(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, invalid(err.Error(), ""))
		return
	}
	s.mu.Lock()
	s.audioFiles = append(s.audioFiles, form.file)
	s.mu.Unlock()
	if form.model == "" {
		s.writeError(w, http.StatusBadRequest, invalid(noModel, "model"))
		return
	}
	next := s.nextTranscription()
	if !s.wait(r.Context(), next.delay) {
		return
	}
	switch form.format {
	case "", "json":
		writeJSON(w, http.StatusOK, map[string]any{"text": next.text})
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, next.text+"\n") // a client that went away is not the server's error
	case "verbose_json":
		writeJSON(w, http.StatusOK, map[string]any{
			"task": "transcribe", "language": "en", "duration": wavSeconds(form.file),
			"text": next.text, "segments": []any{},
		})
	default:
		msg := fmt.Sprintf("response_format %q is not supported by openaitest", form.format)
		s.writeError(w, http.StatusBadRequest, invalid(msg, "response_format"))
	}
}

func (s *Server) nextTranscription() transcription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next transcription
	if len(s.transcripts) > 0 {
		next, s.transcripts = s.transcripts[0], s.transcripts[1:]
	}
	return next
}

type audioForm struct {
	file          []byte
	model, format string
}

// readForm reads the whole multipart body first, so the server watches for
// the client going away while the handler waits.
func readForm(r *http.Request) (audioForm, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return audioForm{}, fmt.Errorf("reading the body: %w", err)
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return audioForm{}, errors.New("invalid Content-Type header, expected multipart/form-data")
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(32 << 20)
	if err != nil {
		return audioForm{}, fmt.Errorf("could not parse multipart form: %w", err)
	}
	defer form.RemoveAll()
	var f audioForm
	if files := form.File["file"]; len(files) > 0 {
		if f.file, err = readPart(files[0]); err != nil {
			return audioForm{}, err
		}
	} else {
		return audioForm{}, errors.New("you must provide a file parameter")
	}
	first := func(key string) string {
		if v := form.Value[key]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f.model, f.format = first("model"), first("response_format")
	return f, nil
}

func readPart(h *multipart.FileHeader) ([]byte, error) {
	f, err := h.Open()
	if err != nil {
		return nil, fmt.Errorf("opening the file part: %w", err)
	}
	defer f.Close()
	return io.ReadAll(f)
}

// wavSeconds returns the duration of a WAV file, or 0 for anything else.
func wavSeconds(b []byte) float64 {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0
	}
	var bytesPerSecond uint32
	for rest := b[12:]; len(rest) >= 8; {
		id, size := string(rest[0:4]), binary.LittleEndian.Uint32(rest[4:8])
		body := rest[8:]
		switch {
		case id == "fmt " && len(body) >= 16:
			bytesPerSecond = binary.LittleEndian.Uint32(body[8:12])
		case id == "data" && bytesPerSecond > 0:
			return float64(min(uint64(size), uint64(len(body)))) / float64(bytesPerSecond)
		}
		skip := uint64(size) + uint64(size&1)
		if skip > uint64(len(body)) {
			return 0
		}
		rest = body[skip:]
	}
	return 0
}

func (s *Server) handleSpeech(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req openai.CreateSpeechRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		s.writeError(w, http.StatusBadRequest, invalid(unparsable, ""))
		return
	}
	s.mu.Lock()
	s.speechRequests = append(s.speechRequests, req)
	audio := s.speech
	s.mu.Unlock()
	if msg, param := checkSpeech(req); msg != "" {
		s.writeError(w, http.StatusBadRequest, invalid(msg, param))
		return
	}
	if !s.wait(r.Context(), audio.delay) {
		return
	}
	out, contentType := pcmBytes(audio.pcm), "audio/pcm"
	if req.ResponseFormat == openai.SpeechResponseFormatWav {
		out, contentType = wav(audio.pcm, audio.rate), "audio/wav"
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(out) // a client that went away is not the server's error
}

// checkSpeech returns OpenAI's message and param for a request it would
// refuse, or "" to go on.
func checkSpeech(req openai.CreateSpeechRequest) (msg, param string) {
	switch {
	case req.Model == "":
		return noModel, "model"
	case req.Input == "":
		return "[] is too short - 'input'", "input"
	case req.Voice == "":
		return "you must provide a voice parameter", "voice"
	case req.ResponseFormat != openai.SpeechResponseFormatPcm && req.ResponseFormat != openai.SpeechResponseFormatWav:
		format := req.ResponseFormat
		if format == "" {
			format = openai.SpeechResponseFormatMp3 + " (the default)"
		}
		return fmt.Sprintf("response_format %s is not supported by openaitest: ask for pcm or wav", format), "response_format"
	}
	return "", ""
}

func pcmBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// wav wraps samples in a 44-byte RIFF header: mono, 16-bit PCM.
func wav(pcm []int16, rate int) []byte {
	data := pcmBytes(pcm)
	h := make([]byte, 0, 44+len(data))
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(36+len(data)))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)             // fmt chunk size
	h = binary.LittleEndian.AppendUint16(h, 1)              // PCM
	h = binary.LittleEndian.AppendUint16(h, 1)              // mono
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))   // sample rate
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*2)) // bytes per second
	h = binary.LittleEndian.AppendUint16(h, 2)              // block align
	h = binary.LittleEndian.AppendUint16(h, 16)             // bits per sample
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	return append(h, data...)
}
