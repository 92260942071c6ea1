package media

import (
	"fmt"
	"strings"

	"github.com/zaf/g711"
)

// Codec turns 16-bit linear PCM into an RTP payload and back. A Codec may
// keep state between frames (G.722's ADPCM predictors do), so each call
// direction of each leg owns its own encoder and decoder: see NewCodec.
type Codec interface {
	// Name is the rtpmap encoding name: PCMU, PCMA or G722.
	Name() string
	// PayloadType is the RTP payload type this leg negotiated.
	PayloadType() uint8
	// ClockRate is the RTP timestamp rate. G.722 says 8000 here although it
	// samples at 16 kHz (RFC 3551 §4.5.2).
	ClockRate() uint32
	// SampleRate is the PCM rate Encode takes and Decode returns.
	SampleRate() int
	// Encode appends the payload for pcm to dst.
	Encode(dst []byte, pcm []int16) []byte
	// Decode appends the PCM of payload to dst.
	Decode(dst []int16, payload []byte) []int16
}

// NewCodecFunc builds a codec for a payload type; packages that add codecs
// (G.722 lives in its own package) register one in codecs.
type NewCodecFunc func(payloadType uint8) Codec

var codecs = map[string]NewCodecFunc{
	"PCMU": func(pt uint8) Codec { return g711Codec{name: "PCMU", pt: pt, ulaw: true} },
	"PCMA": func(pt uint8) Codec { return g711Codec{name: "PCMA", pt: pt} },
}

// RegisterCodec makes name available to NewCodec. It is meant to be called
// from an init function and panics on a duplicate, which is a programming
// error.
func RegisterCodec(name string, f NewCodecFunc) {
	name = strings.ToUpper(name)
	if _, dup := codecs[name]; dup {
		panic("media: codec registered twice: " + name)
	}
	codecs[name] = f
}

// NewCodec returns a fresh codec (with its own state) for an rtpmap
// encoding name, case-insensitive.
func NewCodec(name string, payloadType uint8) (Codec, error) {
	f, ok := codecs[strings.ToUpper(name)]
	if !ok {
		return nil, fmt.Errorf("media: codec %q not supported", name)
	}
	return f(payloadType), nil
}

// g711Codec is PCMU (mu-law) or PCMA (A-law); it is stateless.
type g711Codec struct {
	name string
	pt   uint8
	ulaw bool
}

func (c g711Codec) Name() string       { return c.name }
func (c g711Codec) PayloadType() uint8 { return c.pt }
func (c g711Codec) ClockRate() uint32  { return 8000 }
func (c g711Codec) SampleRate() int    { return 8000 }

func (c g711Codec) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		if c.ulaw {
			dst = append(dst, g711.EncodeUlawFrame(s))
		} else {
			dst = append(dst, g711.EncodeAlawFrame(s))
		}
	}
	return dst
}

func (c g711Codec) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		if c.ulaw {
			dst = append(dst, g711.DecodeUlawFrame(b))
		} else {
			dst = append(dst, g711.DecodeAlawFrame(b))
		}
	}
	return dst
}
