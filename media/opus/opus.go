// Package opus is Opus (RFC 6716) for the media path of browser calls:
// mono PCM in 20 ms frames, at 16 kHz for the AI path or up to 48 kHz,
// with packet-loss concealment and the in-band forward error correction
// (LBRR) that browsers send. It wraps
// libopus, the reference implementation every browser runs, through cgo
// (Debian's libopus-dev), rather than a pure-Go port: see the package's
// first commit for the comparison.
//
// The encoder's and decoder's states live in Go memory (libopus documents
// them as position independent), so nothing needs closing and the garbage
// collector frees them. Every packet from the network is checked before
// libopus sees it and a malformed one is an error, never a crash.
//
// Importing the package registers "OPUS" with media.NewCodec. Like
// media/g722 it holds no other state.
package opus

/*
#cgo pkg-config: opus
#include <opus.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

const (
	// ClockRate is the RTP clock rate of Opus, whatever the rate of the
	// PCM on either side (RFC 7587 §4.1).
	ClockRate = 48000
	// MaxPacket bounds a packet in either direction: an RTP payload must
	// fit one datagram under the Ethernet MTU, and a packet said to be
	// larger is refused before libopus reads it.
	MaxPacket = 1500
)

// checkRate accepts the PCM rates libopus encodes from and decodes to.
// Opus codes internally at 8, 12, 16, 24 or 48 kHz, so a rate below 48
// kHz costs no resampling where the content is that narrow.
func checkRate(rate int) error {
	switch rate {
	case 8000, 12000, 16000, 24000, 48000:
		return nil
	}
	return fmt.Errorf("opus: sample rate %d not one of 8000, 12000, 16000, 24000, 48000", rate)
}

// Frame durations, in units of Opus's shortest frame, 2.5 ms.
const (
	unitsPer20ms = 8
	maxUnits     = 48 // 120 ms, the longest packet
)

// unit is 2.5 ms of samples at rate.
func unit(rate int) int { return rate / 400 }

// Errors callers can branch on with errors.Is.
var (
	// ErrEmptyPacket is returned for a zero-length payload, which RFC 6716
	// §3.4 (R1) says is not an Opus packet.
	ErrEmptyPacket = errors.New("opus: empty packet")
	// ErrPacketTooLarge is returned for a payload over MaxPacket.
	ErrPacketTooLarge = errors.New("opus: packet too large")
	// ErrFrameSize is returned for a PCM length Opus cannot code in one
	// packet: 2.5, 5, 10, 20, 40, 60, 80, 100 or 120 ms for the encoder,
	// any multiple of 2.5 ms up to 120 ms for concealment.
	ErrFrameSize = errors.New("opus: unsupported frame size")
	// ErrInvalidPacket is libopus's OPUS_INVALID_PACKET: the packet's
	// table of contents or frame lengths do not hold together.
	ErrInvalidPacket = errors.New("opus: invalid packet")
)

// libError is any other libopus error code, with libopus's own words.
type libError int

func (e libError) Error() string {
	return "opus: " + C.GoString(C.opus_strerror(C.int(e)))
}

// check turns a libopus return value into an error when it is negative.
func check(op string, ret C.int) error {
	switch {
	case ret >= 0:
		return nil
	case ret == C.OPUS_INVALID_PACKET:
		return fmt.Errorf("%s: %w", op, ErrInvalidPacket)
	default:
		return fmt.Errorf("%s: %w", op, libError(ret))
	}
}

// state returns size bytes of Go memory for a libopus state, aligned to
// 16 bytes as malloc's would be: libopus aligns its sub-states relative
// to the start and expects the start aligned. The memory holds no Go
// pointers, so cgo lets C use it during a call.
//
// The owner must keep the slice, not only a *C.OpusDecoder made from it:
// cgo gives incomplete C types such as OpusDecoder a not-in-heap Go type,
// and the garbage collector does not follow pointers to those, so such a
// pointer alone lets it free the state. Each call makes the C pointer
// afresh and keeps the slice alive until C returns.
func state(size C.int) []uint64 {
	mem := make([]uint64, int(size)/8+2)
	if uintptr(unsafe.Pointer(&mem[0]))%16 != 0 {
		mem = mem[1:]
	}
	return mem
}
