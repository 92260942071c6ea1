package openaitest

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// tone is n samples of a sawtooth, so byte order mistakes show.
func tone(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16((i*331)%65536 - 32768)
	}
	return pcm
}

func TestTranscriptionRoundTrip(t *testing.T) {
	utterance := wavFile(8000, tone(8000)) // one second
	tests := []struct {
		format       openai.AudioResponseFormat
		wantText     string
		wantDuration float64
	}{
		{"", "I need help with my bill", 0},
		{openai.AudioResponseFormatJSON, "I need help with my bill", 0},
		{openai.AudioResponseFormatText, "I need help with my bill\n", 0},
		{openai.AudioResponseFormatVerboseJSON, "I need help with my bill", 1},
	}
	for _, tt := range tests {
		t.Run("format "+string(tt.format), func(t *testing.T) {
			s := New(t)
			s.QueueTranscription("I need help with my bill", 10*time.Millisecond)
			resp, err := newClient(s).CreateTranscription(testContext(t), openai.AudioRequest{
				Model: openai.Whisper1, FilePath: "utterance.wav", Reader: bytes.NewReader(utterance), Format: tt.format,
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != tt.wantText || resp.Duration != tt.wantDuration {
				t.Errorf("transcription = %q over %vs, want %q over %vs", resp.Text, resp.Duration, tt.wantText, tt.wantDuration)
			}
			if got := s.Transcriptions(); len(got) != 1 || !bytes.Equal(got[0], utterance) {
				t.Errorf("server received %d file(s), want the one sent", len(got))
			}
		})
	}
}

func TestTranscriptionQueueIsFIFO(t *testing.T) {
	s := New(t)
	s.QueueTranscription("first", 0)
	s.QueueTranscription("second", 0)
	var got []string
	for i := range 3 {
		resp, err := newClient(s).CreateTranscription(testContext(t), openai.AudioRequest{
			Model: openai.Whisper1, FilePath: "u.wav", Reader: bytes.NewReader([]byte{byte(i)}),
		})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.Text)
	}
	if want := []string{"first", "second", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("texts = %q, want %q", got, want)
	}
	if files := s.Transcriptions(); !reflect.DeepEqual(files, [][]byte{{0}, {1}, {2}}) {
		t.Errorf("files = %v, want the three sent in order", files)
	}
}

func TestSpeechRoundTrip(t *testing.T) {
	pcm := tone(1600)
	tests := []struct {
		format    openai.SpeechResponseFormat
		wantType  string
		wantBytes []byte
	}{
		{openai.SpeechResponseFormatPcm, "audio/pcm", pcmLE(pcm)},
		{openai.SpeechResponseFormatWav, "audio/wav", wavFile(16000, pcm)},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			s := New(t)
			s.SetSpeech(pcm, 16000, 10*time.Millisecond)
			req := openai.CreateSpeechRequest{
				Model: openai.TTSModel1, Input: "Your order has shipped.", Voice: openai.VoiceAlloy,
				ResponseFormat: tt.format, Speed: 1.25,
			}
			resp, err := newClient(s).CreateSpeech(testContext(t), req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Close()
			got, err := io.ReadAll(resp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.wantBytes) || resp.Header().Get("Content-Type") != tt.wantType {
				t.Errorf("speech = %d bytes of %q, want %d bytes of %q", len(got), resp.Header().Get("Content-Type"), len(tt.wantBytes), tt.wantType)
			}
			if reqs := s.SpeechRequests(); len(reqs) != 1 || reqs[0] != req {
				t.Errorf("speech requests = %+v, want [%+v]", reqs, req)
			}
		})
	}
}

func TestSpeechRefusesFormatsItCannotEncode(t *testing.T) {
	for _, format := range []openai.SpeechResponseFormat{"", openai.SpeechResponseFormatMp3, openai.SpeechResponseFormatOpus} {
		t.Run("format "+string(format), func(t *testing.T) {
			s := New(t)
			_, err := newClient(s).CreateSpeech(testContext(t), openai.CreateSpeechRequest{
				Model: openai.TTSModel1, Input: "hi", Voice: openai.VoiceAlloy, ResponseFormat: format,
			})
			apiErr := asAPIError(t, err)
			if apiErr.HTTPStatusCode != http.StatusBadRequest || apiErr.Param == nil || *apiErr.Param != "response_format" {
				t.Errorf("error = %+v, want 400 on response_format", apiErr)
			}
		})
	}
}

// pcmLE and wavFile spell out the expected bytes independently of the
// server's encoder.
func pcmLE(pcm []int16) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, pcm) // a bytes.Buffer does not fail
	return b.Bytes()
}

func wavFile(rate uint32, pcm []int16) []byte {
	data := pcmLE(pcm)
	var b bytes.Buffer
	header := struct {
		RIFF      [4]byte
		Size      uint32
		WAVEfmt   [8]byte
		FmtSize   uint32
		Format    uint16
		Channels  uint16
		Rate      uint32
		ByteRate  uint32
		Align     uint16
		Bits      uint16
		DataID    [4]byte
		DataBytes uint32
	}{
		[4]byte{'R', 'I', 'F', 'F'}, uint32(36 + len(data)), [8]byte{'W', 'A', 'V', 'E', 'f', 'm', 't', ' '},
		16, 1, 1, rate, rate * 2, 2, 16, [4]byte{'d', 'a', 't', 'a'}, uint32(len(data)),
	}
	_ = binary.Write(&b, binary.LittleEndian, header) // a bytes.Buffer does not fail
	b.Write(data)
	return b.Bytes()
}

// FuzzWAVSeconds: the verbose_json duration comes from whatever bytes a
// client uploads, so reading them must never panic or go negative.
func FuzzWAVSeconds(f *testing.F) {
	f.Add(wavFile(8000, tone(80)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Add([]byte("not audio"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d := wavSeconds(b); d < 0 {
			t.Errorf("wavSeconds = %v", d)
		}
	})
}
