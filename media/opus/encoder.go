package opus

/*
#include <opus.h>

// opus_encoder_ctl is variadic, which cgo cannot call; every setting this
// package uses takes one opus_int32.
static int sb_encoder_set(OpusEncoder *st, int request, opus_int32 value) {
	return opus_encoder_ctl(st, request, value);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"slices"
	"unsafe"
)

// EncoderConfig holds the settings of an Encoder. Start from
// DefaultEncoderConfig: its zero value turns FEC off and leaves the rest
// to libopus.
type EncoderConfig struct {
	// Bitrate in bits per second, 6000 to 510000; 0 leaves it to libopus,
	// which derives it from the rate and the frame length.
	Bitrate int
	// Complexity trades CPU for quality, 0 to 10; -1 leaves libopus's
	// default (10).
	Complexity int
	// FEC adds in-band forward error correction: each packet carries a
	// coarse copy of the one before (LBRR), so the peer recovers a single
	// lost packet from the next one. libopus codes it only while
	// PacketLossPercent is above zero.
	FEC bool
	// PacketLossPercent is the loss the encoder expects, 0 to 100: with
	// FEC it decides how much LBRR to spend bits on.
	PacketLossPercent int
	// DTX stops sending during silence but for a packet every 400 ms.
	DTX bool
	// MaxBandwidth caps the audio bandwidth the encoder codes; 0 leaves
	// it to libopus (up to fullband, 20 kHz).
	MaxBandwidth Bandwidth
}

// Bandwidth is an Opus audio bandwidth: the highest frequency coded.
type Bandwidth int

// The bandwidths MaxBandwidth takes.
const (
	Narrowband    Bandwidth = C.OPUS_BANDWIDTH_NARROWBAND    // 4 kHz, as G.711
	Mediumband    Bandwidth = C.OPUS_BANDWIDTH_MEDIUMBAND    // 6 kHz
	Wideband      Bandwidth = C.OPUS_BANDWIDTH_WIDEBAND      // 8 kHz, as G.722 and the recogniser's 16 kHz
	Superwideband Bandwidth = C.OPUS_BANDWIDTH_SUPERWIDEBAND // 12 kHz
	Fullband      Bandwidth = C.OPUS_BANDWIDTH_FULLBAND      // 20 kHz
)

// DefaultEncoderConfig is what the media path uses. Each choice, and the
// figure behind it (scripts/bench.sh, the tests):
//
//   - Wideband at most (8 kHz audio, SILK): the recogniser listens at
//     16 kHz, TTS voices and G.722 legs carry no more, and fullband costs
//     bits for nothing a caller would hear (digital silence is 8 bytes a
//     frame, not 21).
//   - 32 kbit/s: wideband speech settles near 22 kbit/s on average (VBR),
//     which leaves room for the FEC copy.
//   - Complexity 1: encoding is the dearest part of a browser call, and
//     complexity 1 costs about 60 µs of CPU a frame on the 2-core bench
//     machine against 150 µs at 5 and 310 µs at libopus's default 10
//     (BenchmarkOpusEncode): a core carries the encoding of about 320
//     calls instead of 130 or 65. What it gives up is mostly SILK's
//     delayed-decision quantiser; the round trip keeps the same SNR, and
//     FEC recovers a lost frame at 19 dB against 22 dB at complexity 5.
//   - FEC on, expecting 10 % loss: the peer is often a browser on Wi-Fi,
//     and a frame recovered from FEC is much closer to the lost one than
//     concealment (TestFECRecoversBetterThanPLC): 19 dB against 7.
//   - DTX off: while the AI is silent it is listening, what we send then
//     is digital silence at 8 bytes a frame, and a steady 50 packets a
//     second keeps the peer's jitter buffer and media timeout settled.
//     DTX would save those bytes, not the CPU: libopus still analyses
//     every frame.
func DefaultEncoderConfig() EncoderConfig {
	return EncoderConfig{Bitrate: 32000, Complexity: 1, FEC: true, PacketLossPercent: 10, MaxBandwidth: Wideband}
}

func (c EncoderConfig) validate() error {
	switch {
	case c.Bitrate != 0 && (c.Bitrate < 6000 || c.Bitrate > 510000):
		return fmt.Errorf("opus: bitrate %d outside 6000..510000", c.Bitrate)
	case c.Complexity < -1 || c.Complexity > 10:
		return fmt.Errorf("opus: complexity %d outside 0..10", c.Complexity)
	case c.PacketLossPercent < 0 || c.PacketLossPercent > 100:
		return fmt.Errorf("opus: packet loss %d%% outside 0..100", c.PacketLossPercent)
	case c.MaxBandwidth != 0 && (c.MaxBandwidth < Narrowband || c.MaxBandwidth > Fullband):
		return fmt.Errorf("opus: max bandwidth %d not an Opus bandwidth", c.MaxBandwidth)
	}
	return nil
}

// Encoder turns mono PCM into Opus packets, with libopus's VOIP
// application: it favours intelligibility (SILK for speech, a high-pass
// filter against hum) over fidelity. An Encoder keeps state between
// frames and is not safe for concurrent use: each sent stream owns one.
type Encoder struct {
	mem      []uint64 // the OpusEncoder; see state
	rate     int
	channels int
}

// st is the encoder's state as libopus takes it; runtime.KeepAlive(e.mem)
// must follow the call it is passed to.
func (e *Encoder) st() *C.OpusEncoder { return (*C.OpusEncoder)(unsafe.Pointer(&e.mem[0])) }

// NewEncoder returns a mono encoder of PCM at rate Hz (16000 for the AI
// path: libopus then codes wideband speech without resampling, up to
// 48000) with cfg's settings.
func NewEncoder(rate int, cfg EncoderConfig) (*Encoder, error) { return newEncoder(rate, cfg, 1) }

// newEncoder takes the channel count for the tests, which play a browser
// that sends stereo.
func newEncoder(rate int, cfg EncoderConfig, channels int) (*Encoder, error) {
	if err := checkRate(rate); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Encoder{mem: state(C.opus_encoder_get_size(C.int(channels))), rate: rate, channels: channels}
	ret := C.opus_encoder_init(e.st(), C.opus_int32(rate), C.int(channels), C.OPUS_APPLICATION_VOIP)
	runtime.KeepAlive(e.mem)
	if err := check("init encoder", ret); err != nil {
		return nil, err
	}
	set := []struct {
		name    string
		request C.int
		value   int
		skip    bool
	}{
		{"bitrate", C.OPUS_SET_BITRATE_REQUEST, cfg.Bitrate, cfg.Bitrate == 0},
		{"complexity", C.OPUS_SET_COMPLEXITY_REQUEST, cfg.Complexity, cfg.Complexity < 0},
		{"in-band fec", C.OPUS_SET_INBAND_FEC_REQUEST, b2i(cfg.FEC), false},
		{"packet loss", C.OPUS_SET_PACKET_LOSS_PERC_REQUEST, cfg.PacketLossPercent, false},
		{"dtx", C.OPUS_SET_DTX_REQUEST, b2i(cfg.DTX), false},
		{"max bandwidth", C.OPUS_SET_MAX_BANDWIDTH_REQUEST, int(cfg.MaxBandwidth), cfg.MaxBandwidth == 0},
		// A hint only: it biases the mode decision towards SILK.
		{"signal", C.OPUS_SET_SIGNAL_REQUEST, C.OPUS_SIGNAL_VOICE, false},
	}
	for _, s := range set {
		if s.skip {
			continue
		}
		ret := C.sb_encoder_set(e.st(), s.request, C.opus_int32(s.value))
		runtime.KeepAlive(e.mem)
		if err := check("set "+s.name, ret); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Encode appends one packet for pcm to dst. pcm must be one Opus frame:
// 2.5, 5, 10, 20, 40 or 60 ms, or 80, 100 or 120 ms (320 samples for the
// usual 20 ms at 16 kHz). The packet is at most MaxPacket bytes, libopus lowering
// the quality of a frame rather than exceeding it. It allocates only when
// dst lacks room for MaxPacket more bytes.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm)%e.channels != 0 || !encodable(len(pcm)/e.channels, e.rate) {
		return dst, fmt.Errorf("encode: %w: %d samples", ErrFrameSize, len(pcm))
	}
	dst = slices.Grow(dst, MaxPacket)
	out := dst[len(dst) : len(dst)+MaxPacket]
	n := C.opus_encode(e.st(), (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)/e.channels),
		(*C.uchar)(unsafe.Pointer(&out[0])), MaxPacket)
	runtime.KeepAlive(e.mem)
	if err := check("encode", n); err != nil {
		return dst, err
	}
	return dst[:len(dst)+int(n)], nil
}

// encodable reports whether n samples at rate is a frame duration
// opus_encode takes.
func encodable(n, rate int) bool {
	u := unit(rate)
	if n%u != 0 {
		return false
	}
	switch n / u {
	case 1, 2, 4, 8, 16, 24, 32, 40, 48:
		return true
	}
	return false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
