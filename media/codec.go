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

// Concealer is implemented by codecs that stand in for a lost packet
// better than silence: Opus extends the voice and, with in-band FEC,
// recovers the frame from the packet that followed it. The receiver uses
// it when its decoder has it.
type Concealer interface {
	// Conceal appends n samples for a lost packet. next is the payload of
	// the packet that followed the lost one when it has already arrived,
	// else nil.
	Conceal(dst []int16, n int, next []byte) []int16
}

// RTPChannels is implemented by codecs whose rtpmap names a channel count
// other than 1: Opus always says 2 (RFC 7587 §7), whatever it carries.
type RTPChannels interface {
	RTPChannels() int
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

// NewCodecRTPMap returns a fresh codec for an rtpmap as a peer offered
// it (a browser's "111 opus/48000/2", "9 G722/8000"), checking the clock
// rate and the channel count against what the codec signals, so that
// opus/48000/2 gives the mono Opus codec and G722/16000 is refused rather
// than played at the wrong speed. channels 0 means the rtpmap named none,
// which is 1.
func NewCodecRTPMap(payloadType uint8, name string, clockRate uint32, channels int) (Codec, error) {
	c, err := NewCodec(name, payloadType)
	if err != nil {
		return nil, err
	}
	want := 1
	if rc, ok := c.(RTPChannels); ok {
		want = rc.RTPChannels()
	}
	if channels == 0 {
		channels = 1
	}
	if clockRate != c.ClockRate() || channels != want {
		return nil, fmt.Errorf("media: codec %s/%d/%d not supported: want %s/%d/%d",
			name, clockRate, channels, name, c.ClockRate(), want)
	}
	return c, nil
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
