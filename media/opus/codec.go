//go:build cgo

package opus

import (
	"fmt"
	"slices"

	"switchboard/media"
)

// init registers the codec under its rtpmap name, as media/g722 does:
// package media cannot import this one, so the voice channel and the
// WebRTC line blank-import it.
func init() {
	media.RegisterCodec("OPUS", func(pt uint8) media.Codec {
		c, err := NewCodec(pt, DefaultRate, DefaultEncoderConfig())
		if err != nil {
			// Only an invalid config fails, and TestDefaultConfigIsValid
			// holds the default to it.
			panic(err)
		}
		return c
	})
}

// DefaultRate is the PCM rate of the registered codec: 16 kHz, the
// recogniser's rate and G.722's, so that a browser call's audio reaches
// the VAD, the recogniser or a G.722 leg without resampling, and libopus
// works at wideband speech's own rate: decoding costs about half the CPU
// it does to 48 kHz, encoding a fifth less (BenchmarkOpusDecode,
// BenchmarkOpusEncode). Nothing on the AI path has audio above 8 kHz to
// lose.
const DefaultRate = 16000

// Codec is Opus as media.Codec: one Encoder and one Decoder, for one
// direction of one call leg each, mono PCM at one rate both ways. Its
// RTP clock is 48 kHz whatever that rate, as G.722's is 8 kHz at 16.
//
// media.Codec has no error results, so Codec keeps the stream's timing
// instead: a packet that fails to decode is concealed, and a PCM length
// Opus cannot code in one packet (a 30 ms ptime) gives an empty payload,
// which the peer conceals. Both are counted (Errors) and neither happens
// on a 20 ms stream, which is what browsers and RFC 7587 use.
type Codec struct {
	pt        uint8
	enc       *Encoder
	dec       *Decoder
	frame     int // samples in the last decoded packet: the length of a concealed one
	encErrors uint64
	decErrors uint64
	lastErr   error
}

var (
	_ media.Codec       = (*Codec)(nil)
	_ media.Concealer   = (*Codec)(nil)
	_ media.RTPChannels = (*Codec)(nil)
)

// NewCodec returns Opus for payload type pt with PCM at rate Hz,
// encoding with cfg.
func NewCodec(pt uint8, rate int, cfg EncoderConfig) (*Codec, error) {
	enc, err := NewEncoder(rate, cfg)
	if err != nil {
		return nil, fmt.Errorf("opus codec: %w", err)
	}
	dec, err := NewDecoder(rate)
	if err != nil {
		return nil, fmt.Errorf("opus codec: %w", err)
	}
	return &Codec{pt: pt, enc: enc, dec: dec, frame: unitsPer20ms * unit(rate)}, nil
}

// Name is the rtpmap encoding name, in the case browsers write it.
func (c *Codec) Name() string       { return "opus" }
func (c *Codec) PayloadType() uint8 { return c.pt }
func (c *Codec) ClockRate() uint32  { return ClockRate }
func (c *Codec) SampleRate() int    { return c.dec.rate }

// RTPChannels is 2: RFC 7587 §7 has every Opus rtpmap say opus/48000/2,
// mono or stereo, so that any receiver can decode any stream. It does not
// make this codec stereo.
func (c *Codec) RTPChannels() int { return 2 }

// Encode appends one packet for pcm; see the type's doc for what happens
// to a length Opus cannot code.
func (c *Codec) Encode(dst []byte, pcm []int16) []byte {
	out, err := c.enc.Encode(dst, pcm)
	if err != nil {
		c.encErrors++
		c.lastErr = err
	}
	return out
}

// Decode appends the PCM of payload, or a concealed frame of the last
// packet's length when payload is not a valid Opus packet.
func (c *Codec) Decode(dst []int16, payload []byte) []int16 {
	out, err := c.dec.Decode(dst, payload)
	if err != nil {
		c.decErrors++
		c.lastErr = err
		return c.Conceal(dst, c.frame, nil)
	}
	c.frame = len(out) - len(dst)
	return out
}

// Conceal appends n samples for a lost packet: recovered from next's
// in-band FEC when next is given, else libopus's packet-loss concealment.
// Should both fail (an n that is not a multiple of 2.5 ms), it appends
// silence.
func (c *Codec) Conceal(dst []int16, n int, next []byte) []int16 {
	var (
		out []int16
		err error
	)
	if next != nil {
		out, err = c.dec.DecodeFEC(dst, next, n)
	}
	if next == nil || err != nil {
		out, err = c.dec.Conceal(dst, n)
	}
	if err != nil {
		c.decErrors++
		c.lastErr = err
		n = max(n, 0)
		dst = slices.Grow(dst, n)[:len(dst)+n]
		clear(dst[len(dst)-n:])
		return dst
	}
	return out
}

// Errors returns how many frames failed to encode and packets to decode,
// and the last error, for a caller that wants to log or count them.
func (c *Codec) Errors() (encode, decode uint64, last error) {
	return c.encErrors, c.decErrors, c.lastErr
}
