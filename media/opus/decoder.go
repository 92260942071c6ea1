package opus

/*
#include <opus.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"slices"
	"unsafe"
)

// Decoder turns Opus packets into mono PCM at its rate. A stereo stream (a
// browser's opus/48000/2 with stereo=1) is mixed down by libopus, which is
// what the AI path wants. A Decoder keeps state between packets and is not
// safe for concurrent use: each received stream owns one.
type Decoder struct {
	mem  []uint64 // the OpusDecoder; see state
	rate int
}

// NewDecoder returns a mono decoder whose PCM is at rate Hz: 16000 for
// the recogniser (libopus then decodes wideband speech without
// resampling), up to 48000.
func NewDecoder(rate int) (*Decoder, error) {
	if err := checkRate(rate); err != nil {
		return nil, err
	}
	d := &Decoder{mem: state(C.opus_decoder_get_size(1)), rate: rate}
	ret := C.opus_decoder_init(d.st(), C.opus_int32(rate), 1)
	runtime.KeepAlive(d.mem)
	if err := check("init decoder", ret); err != nil {
		return nil, err
	}
	return d, nil
}

// st is the decoder's state as libopus takes it; runtime.KeepAlive(d.mem)
// must follow the call it is passed to.
func (d *Decoder) st() *C.OpusDecoder { return (*C.OpusDecoder)(unsafe.Pointer(&d.mem[0])) }

// Decode appends the PCM of one packet to dst: as many samples as the
// packet holds (the 20 ms a browser sends, up to 120 ms). It
// allocates only when dst lacks room. A malformed packet leaves dst as it
// was and returns an error; call Conceal to keep the stream's timing.
func (d *Decoder) Decode(dst []int16, packet []byte) ([]int16, error) {
	if err := checkPacket(packet); err != nil {
		return dst, fmt.Errorf("decode: %w", err)
	}
	// libopus parses the packet's table of contents before it decodes, and
	// refuses one that claims more than 120 ms, so n is bounded.
	n := C.opus_decoder_get_nb_samples(d.st(), cbytes(packet), C.opus_int32(len(packet)))
	runtime.KeepAlive(d.mem)
	if err := check("decode", n); err != nil {
		return dst, err
	}
	if n == 0 { // a code 3 packet that counts no frames (R5)
		return dst, fmt.Errorf("decode: %w: no frames", ErrInvalidPacket)
	}
	return d.decode(dst, packet, int(n), 0)
}

// Conceal appends n samples standing in for a lost packet: libopus's
// packet-loss concealment, which extends the last pitch period and fades
// it out, so a gap is heard as a smear rather than a click. n must be a
// multiple of 2.5 ms up to 120 ms: 320 samples for a 20 ms packet at
// 16 kHz.
func (d *Decoder) Conceal(dst []int16, n int) ([]int16, error) {
	if err := d.checkGap(n); err != nil {
		return dst, fmt.Errorf("conceal: %w", err)
	}
	return d.decode(dst, nil, n, 0)
}

// DecodeFEC appends n samples for a lost packet recovered from next, the
// packet that followed it: with in-band FEC on, a SILK or hybrid packet
// carries a coarser copy of the frame before it (LBRR). Where next carries
// none, libopus conceals as Conceal does. Decode next itself afterwards,
// as usual. n is the lost duration, as for Conceal.
func (d *Decoder) DecodeFEC(dst []int16, next []byte, n int) ([]int16, error) {
	if err := checkPacket(next); err != nil {
		return dst, fmt.Errorf("decode fec: %w", err)
	}
	if err := d.checkGap(n); err != nil {
		return dst, fmt.Errorf("decode fec: %w", err)
	}
	return d.decode(dst, next, n, 1)
}

// decode runs opus_decode into n samples of room after dst's end.
func (d *Decoder) decode(dst []int16, packet []byte, n int, fec C.int) ([]int16, error) {
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	got := C.opus_decode(d.st(), cbytes(packet), C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&out[0])), C.int(n), fec)
	runtime.KeepAlive(d.mem)
	if err := check("decode", got); err != nil {
		return dst, err
	}
	return dst[:len(dst)+int(got)], nil
}

// checkPacket bounds a packet before libopus reads it.
func checkPacket(p []byte) error {
	switch {
	case len(p) == 0:
		return ErrEmptyPacket
	case len(p) > MaxPacket:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrPacketTooLarge, len(p), MaxPacket)
	}
	return nil
}

// checkGap bounds the length of a concealed or recovered gap.
func (d *Decoder) checkGap(n int) error {
	u := unit(d.rate)
	if n <= 0 || n > maxUnits*u || n%u != 0 {
		return fmt.Errorf("%w: %d samples", ErrFrameSize, n)
	}
	return nil
}

// cbytes is p as libopus takes it; nil for no packet (concealment).
func cbytes(p []byte) *C.uchar {
	if len(p) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(&p[0]))
}
