package media

import (
	"context"
	"errors"
	"fmt"
)

// EndedError says which session ended a Bridge, and why.
type EndedError struct {
	Session *Session
	Err     error
}

func (e *EndedError) Error() string {
	return fmt.Sprintf("bridge: leg on port %d ended: %v", e.Session.LocalPort(), e.Err)
}

func (e *EndedError) Unwrap() error { return e.Err }

// Bridge relays audio and DTMF between two started sessions until ctx
// ends (it returns the context's cause) or one session ends (an
// *EndedError naming it). Each frame is written to the other leg as soon
// as it is read, transcoded and resampled as the codecs need; while
// bridged, nobody else may read a's or b's Audio or DTMF.
func Bridge(ctx context.Context, a, b *Session) error {
	if a == b {
		return errors.New("bridge: a session cannot be bridged to itself")
	}
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-a.Done():
			return &EndedError{Session: a, Err: a.Err()}
		case <-b.Done():
			return &EndedError{Session: b, Err: b.Err()}
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
			relayDigit(d, a, b)
		case d, ok := <-b.DTMF():
			if !ok {
				return ended(b)
			}
			relayDigit(d, b, a)
		}
	}
}

// ended reports a session whose channels closed, which happens only once
// it is done.
func ended(s *Session) error {
	<-s.Done()
	return &EndedError{Session: s, Err: s.Err()}
}

func relayDigit(d rune, from, to *Session) {
	if err := to.SendDigit(d); err != nil {
		// A leg without telephone-event cannot carry the digit; the call
		// goes on without it.
		from.log.Warn("bridge: digit not relayed", "digit", string(d), "to_port", to.LocalPort(), "err", err)
	}
}
