package engine

import (
	"context"
	"fmt"
	"time"

	"switchboard/config"
	"switchboard/media"
	"switchboard/store"
)

// Line is a caller's end of a call as the engine sees it: audio and key
// presses in, audio out, the end of the call, and the transfer actions the
// line's protocol has. A SIP call with its RTP session is one; a WebRTC
// peer or a Twilio Media Stream is another. Its methods are safe for
// concurrent use: the engine's owner loop reads and the turn worker plays.
type Line interface {
	// Port is the caller's audio and key presses: Audio's frames carry
	// their own rate, which may change mid-call (a re-INVITE to another
	// codec); Done closes when the call ends for any reason (the caller
	// hung up, the media stopped), Err then says why. A Bridge to a Leg
	// uses the same methods.
	media.Port

	// SampleRate is the rate the line sends at now: audio played at this
	// rate needs no resampling. It may change mid-call.
	SampleRate() int
	// Play sends pcm (at rate Hz, resampled as needed) after what is
	// already queued and returns once it has been sent; media.ErrInterrupted
	// when StopPlayback dropped it, the context's cause when ctx ended first.
	// It only reads pcm: prompts share one copy between calls.
	Play(ctx context.Context, pcm []int16, rate int) error
	// StopPlayback drops everything queued for Play at once (barge-in).
	StopPlayback()
	// Hangup ends the call from our side. It is safe to call on a line
	// that has already ended, and more than once.
	Hangup(ctx context.Context) error

	// Refer asks the caller's side to call t's target itself (SIP REFER),
	// and returns nil once it has taken the call over; the line then ends.
	// A line that cannot returns an error wrapping errors.ErrUnsupported.
	Refer(ctx context.Context, t Transfer) error
	// Dial rings t's target as a second leg and returns it once it has
	// answered, its media running, for the engine to bridge the caller
	// to. No answer, a refusal or a line that cannot dial is an error; a
	// *FailedError says why in words for the transcript.
	Dial(ctx context.Context, t Transfer) (Leg, error)
}

// Leg is a second party the caller is bridged to: the fallback line that
// answered a Dial.
type Leg interface {
	// Port is the leg's audio; Done closes when the leg ends, whichever
	// side or whatever ended it.
	media.Port
	// Hangup ends the leg and frees its media. It is safe to call on a
	// leg that has already ended, and more than once.
	Hangup(ctx context.Context) error
}

// Transfer is a handoff to carry out on a line: what was decided, the
// configured target it goes to (never an address that came from the
// caller), and when it was decided, for the line to time how fast the
// transfer starts.
type Transfer struct {
	Handoff store.Handoff
	Target  config.Target
	Decided time.Time
}

// FailedError is a transfer step that did not happen, with the reason
// told the way the transcript and the callback record say it ("no answer
// within 30s", "the line answered 486").
type FailedError struct {
	Reason string
	Err    error
}

func (e *FailedError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return fmt.Sprintf("%s: %v", e.Reason, e.Err)
}

func (e *FailedError) Unwrap() error { return e.Err }
