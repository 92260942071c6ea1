// Package g722 implements ITU-T G.722 at 64 kbit/s: sub-band ADPCM over a
// 24-tap QMF, 16 kHz PCM in and out, one byte per two samples. Its encoder
// and decoder are bit-exact with FFmpeg's (whose decoder passes the ITU
// test vectors); the tests hold it to FFmpeg's output in testdata.
//
// Importing the package registers "G722" with media.NewCodec; it must not
// hold any other state, so every media.Codec it returns is independent.
package g722

import "switchboard/media"

// init registers the codec: package media cannot import g722 (g722 needs
// media's Codec interface), so the voice channel blank-imports this
// package instead, the way database/sql drivers register themselves.
func init() {
	media.RegisterCodec("G722", func(pt uint8) media.Codec { return newCodec(pt) })
}

// codec pairs one Encoder and one Decoder: one direction of one call leg
// each, as media.Codec asks.
type codec struct {
	pt  uint8
	enc *Encoder
	dec *Decoder
}

var _ media.Codec = (*codec)(nil)

func newCodec(pt uint8) *codec {
	return &codec{pt: pt, enc: NewEncoder(), dec: NewDecoder()}
}

func (c *codec) Name() string       { return "G722" }
func (c *codec) PayloadType() uint8 { return c.pt }

// ClockRate is 8000 although G.722 samples at 16 kHz: RFC 3551 §4.5.2 kept
// the erroneous value of RFC 1890 for compatibility.
func (c *codec) ClockRate() uint32 { return 8000 }
func (c *codec) SampleRate() int   { return 16000 }

func (c *codec) Encode(dst []byte, pcm []int16) []byte { return c.enc.Encode(dst, pcm) }

func (c *codec) Decode(dst []int16, payload []byte) []int16 { return c.dec.Decode(dst, payload) }
