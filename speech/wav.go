package speech

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrWAV reports a WAV file DecodeWAV cannot read.
var ErrWAV = errors.New("wav")

// MaxWAVBytes bounds what DecodeWAV accepts: ten minutes of 16 kHz audio,
// far past any prompt or utterance.
const MaxWAVBytes = 10 * 60 * 16000 * 2

// DecodeWAV reads a RIFF WAVE file of mono 16-bit PCM, the format flite
// writes and the speech fixtures use. Anything else is an error wrapping
// ErrWAV: the speech code has no use for other layouts, and converting them
// here would hide a misconfigured tool.
func DecodeWAV(b []byte) (Audio, error) {
	if len(b) > MaxWAVBytes {
		return Audio{}, fmt.Errorf("%w: %d bytes is over %d", ErrWAV, len(b), MaxWAVBytes)
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return Audio{}, fmt.Errorf("%w: not a RIFF WAVE file", ErrWAV)
	}
	rate := 0
	for rest := b[12:]; len(rest) >= 8; {
		id, size := string(rest[0:4]), binary.LittleEndian.Uint32(rest[4:8])
		body := rest[8:]
		if uint64(size) > uint64(len(body)) {
			if id != "data" {
				return Audio{}, fmt.Errorf("%w: %q chunk of %d bytes runs past the end", ErrWAV, id, size)
			}
			// Writers streaming to a pipe cannot go back to fill in the
			// data size; take what is there.
			size = uint32(len(body))
		}
		switch id {
		case "fmt ":
			r, err := wavFormat(body[:size])
			if err != nil {
				return Audio{}, err
			}
			rate = r
		case "data":
			if rate == 0 {
				return Audio{}, fmt.Errorf("%w: data chunk before fmt chunk", ErrWAV)
			}
			return Audio{PCM: decodeS16LE(body[:size&^1]), Rate: rate}, nil
		}
		skip := uint64(size) + uint64(size&1) // chunks are padded to even sizes
		if skip > uint64(len(body)) {
			break
		}
		rest = body[skip:]
	}
	return Audio{}, fmt.Errorf("%w: no data chunk", ErrWAV)
}

// wavFormat checks a fmt chunk for mono 16-bit PCM and returns its rate.
func wavFormat(f []byte) (int, error) {
	if len(f) < 16 {
		return 0, fmt.Errorf("%w: fmt chunk of %d bytes is too short", ErrWAV, len(f))
	}
	format := binary.LittleEndian.Uint16(f[0:2])
	channels := binary.LittleEndian.Uint16(f[2:4])
	rate := binary.LittleEndian.Uint32(f[4:8])
	bits := binary.LittleEndian.Uint16(f[14:16])
	const pcm, extensible = 1, 0xfffe
	if format == extensible && len(f) >= 26 {
		format = binary.LittleEndian.Uint16(f[24:26]) // the sub-format GUID's first two bytes
	}
	switch {
	case format != pcm:
		return 0, fmt.Errorf("%w: format %#x is not PCM", ErrWAV, format)
	case channels != 1:
		return 0, fmt.Errorf("%w: %d channels, want mono", ErrWAV, channels)
	case bits != 16:
		return 0, fmt.Errorf("%w: %d bits per sample, want 16", ErrWAV, bits)
	case rate < 1000 || rate > 192000:
		return 0, fmt.Errorf("%w: sample rate %d out of range", ErrWAV, rate)
	}
	return int(rate), nil
}

// EncodeWAV writes a as a RIFF WAVE file of mono 16-bit PCM.
func EncodeWAV(a Audio) []byte {
	n := 2 * len(a.PCM)
	b := make([]byte, 44, 44+n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(a.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*a.Rate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	return appendS16LE(b, a.PCM)
}

func decodeS16LE(b []byte) []int16 {
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

func appendS16LE(b []byte, pcm []int16) []byte {
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}
