package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Port is one end of a Bridge: a call leg's audio and key presses coming
// in, and live audio and key presses going out. A Session is one; so is
// anything else that carries a call's audio (a WebRTC track), which is
// what lets a call engine bridge a caller on any line to a SIP leg.
type Port interface {
	// Audio delivers decoded frames, each valid until the next receive;
	// it is closed once the port is done.
	Audio() <-chan Frame
	// DTMF delivers key presses; it is closed once the port is done.
	DTMF() <-chan rune
	// WriteFrame queues live audio at rate Hz to be sent without waiting,
	// resampled as needed.
	WriteFrame(pcm []int16, rate int)
	// SendDigit sends a key press.
	SendDigit(d rune) error
	// Done is closed when the port ends; Err then says why.
	Done() <-chan struct{}
	Err() error
}

var _ Port = (*Session)(nil)

// EndedError says which port ended a Bridge, and why.
type EndedError struct {
	Port Port
	Err  error
}

func (e *EndedError) Error() string {
	if s, ok := e.Port.(*Session); ok {
		return fmt.Sprintf("bridge: leg on port %d ended: %v", s.LocalPort(), e.Err)
	}
	return fmt.Sprintf("bridge: leg ended: %v", e.Err)
}

func (e *EndedError) Unwrap() error { return e.Err }

// Bridge relays audio and DTMF between two running ports until ctx ends
// (it returns the context's cause) or one port ends (an *EndedError
// naming it). Each frame is written to the other leg as soon as it is
// read, transcoded and resampled as the codecs need; while bridged,
// nobody else may read a's or b's Audio or DTMF. A digit the other leg
// cannot carry is logged to log (nil: discarded) and the bridge goes on.
func Bridge(ctx context.Context, a, b Port, log *slog.Logger) error {
	if a == b {
		return errors.New("bridge: a port cannot be bridged to itself")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-a.Done():
			return &EndedError{Port: a, Err: a.Err()}
		case <-b.Done():
			return &EndedError{Port: b, Err: b.Err()}
		case f, ok := <-a.Audio():
			if !ok {
				return ended(a)
			}
			b.WriteFrame(f.PCM, f.Rate)
		case f, ok := <-b.Audio():
			if !ok {
				return ended(b)
			}
			a.WriteFrame(f.PCM, f.Rate)
		case d, ok := <-a.DTMF():
			if !ok {
				return ended(a)
			}
			relayDigit(log, d, b)
		case d, ok := <-b.DTMF():
			if !ok {
				return ended(b)
			}
			relayDigit(log, d, a)
		}
	}
}

// ended reports a port whose channels closed, which happens only once it
// is done.
func ended(p Port) error {
	<-p.Done()
	return &EndedError{Port: p, Err: p.Err()}
}

func relayDigit(log *slog.Logger, d rune, to Port) {
	if err := to.SendDigit(d); err != nil {
		// A leg without telephone-event cannot carry the digit; the call
		// goes on without it.
		log.Warn("bridge: digit not relayed", "digit", string(d), "err", err)
	}
}
