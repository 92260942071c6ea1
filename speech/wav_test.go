package speech

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestWAVRoundTrip(t *testing.T) {
	for _, a := range []Audio{
		{PCM: []int16{0, 1, -1, 32767, -32768}, Rate: 16000},
		{PCM: []int16{}, Rate: 8000},
	} {
		got, err := DecodeWAV(EncodeWAV(a))
		if err != nil || got.Rate != a.Rate || !slices.Equal(got.PCM, a.PCM) {
			t.Errorf("round trip of %v: %v, %v", a, got, err)
		}
	}
}

func TestWAVDecodesFixture(t *testing.T) {
	a := fixture(t, "human_agent.wav")
	if a.Rate != 16000 || a.Duration().Seconds() < 2 {
		t.Errorf("human_agent.wav: %d Hz, %v; want 16 kHz, over 2 s", a.Rate, a.Duration())
	}
}

// wavBytes builds a WAV of chunks, each given as id then body.
func wavBytes(chunks ...string) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for i := 0; i+1 < len(chunks); i += 2 {
		b = append(b, chunks[i]...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(chunks[i+1])))
		b = append(b, chunks[i+1]...)
		if len(chunks[i+1])%2 == 1 {
			b = append(b, 0)
		}
	}
	return b
}

// fmtChunk is a fmt chunk body: format, channels, rate, bits.
func fmtChunk(format, channels uint16, rate uint32, bits uint16) string {
	b := binary.LittleEndian.AppendUint16(nil, format)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(channels)*uint32(bits)/8)
	b = binary.LittleEndian.AppendUint16(b, channels*bits/8)
	b = binary.LittleEndian.AppendUint16(b, bits)
	return string(b)
}

func TestWAVDecode(t *testing.T) {
	mono16 := fmtChunk(1, 1, 16000, 16)
	extensible := fmtChunk(0xfffe, 1, 8000, 16) + "\x16\x00\x10\x00\x04\x00\x00\x00\x01\x00" + strings.Repeat("\x00", 14)
	truncatedData := wavBytes("fmt ", mono16)
	truncatedData = append(truncatedData, "data\xff\xff\xff\xff\x01\x00\x02\x00"...)
	for _, tc := range []struct {
		name string
		in   []byte
		want []int16
		rate int
		err  string
	}{
		{"pcm", wavBytes("fmt ", mono16, "data", "\x01\x00\xff\xff"), []int16{1, -1}, 16000, ""},
		{"skips other chunks", wavBytes("LIST", "odd", "fmt ", mono16, "data", "\x02\x00"), []int16{2}, 16000, ""},
		{"extensible pcm", wavBytes("fmt ", extensible, "data", "\x03\x00"), []int16{3}, 8000, ""},
		{"streamed data size", truncatedData, []int16{1, 2}, 16000, ""},
		{"odd data byte dropped", wavBytes("fmt ", mono16, "data", "\x01\x00\x05"), []int16{1}, 16000, ""},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVE"), nil, 0, "not a RIFF WAVE"},
		{"short", []byte("RIFF"), nil, 0, "not a RIFF WAVE"},
		{"stereo", wavBytes("fmt ", fmtChunk(1, 2, 16000, 16), "data", ""), nil, 0, "2 channels"},
		{"8-bit", wavBytes("fmt ", fmtChunk(1, 1, 16000, 8), "data", ""), nil, 0, "8 bits"},
		{"float", wavBytes("fmt ", fmtChunk(3, 1, 16000, 32), "data", ""), nil, 0, "not PCM"},
		{"absurd rate", wavBytes("fmt ", fmtChunk(1, 1, 7, 16), "data", ""), nil, 0, "sample rate 7"},
		{"short fmt", wavBytes("fmt ", "\x01\x00", "data", ""), nil, 0, "too short"},
		{"data first", wavBytes("data", "\x00\x00", "fmt ", mono16), nil, 0, "before fmt"},
		{"no data", wavBytes("fmt ", mono16), nil, 0, "no data chunk"},
		{"chunk past end", append(wavBytes(), "fmt \xff\x00\x00\x00"...), nil, 0, "runs past the end"},
		{"too big", make([]byte, MaxWAVBytes+1), nil, 0, "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeWAV(tc.in)
			if tc.err != "" {
				if !errors.Is(err, ErrWAV) || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want ErrWAV saying %q", err, tc.err)
				}
				return
			}
			if err != nil || a.Rate != tc.rate || !slices.Equal(a.PCM, tc.want) {
				t.Errorf("got %v at %d Hz, %v; want %v at %d Hz", a.PCM, a.Rate, err, tc.want, tc.rate)
			}
		})
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(EncodeWAV(Audio{PCM: []int16{0, 1000, -1000}, Rate: 16000}))
	f.Add(wavBytes("LIST", "x", "fmt ", fmtChunk(1, 1, 8000, 16), "data", "\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeWAV(b)
		if err != nil {
			if !errors.Is(err, ErrWAV) {
				t.Fatalf("error %v does not wrap ErrWAV", err)
			}
			return
		}
		if a.Rate < 1000 || a.Rate > 192000 || 2*len(a.PCM) > len(b) {
			t.Fatalf("decoded %d samples at %d Hz from %d bytes", len(a.PCM), a.Rate, len(b))
		}
		again, err := DecodeWAV(EncodeWAV(a))
		if err != nil || again.Rate != a.Rate || !slices.Equal(again.PCM, a.PCM) {
			t.Fatalf("re-encoding changed the audio: %v", err)
		}
	})
}
