package media

import "errors"

// Errors a Session reports. Callers branch on them with errors.Is.
var (
	// ErrMediaTimeout ends a session that received no RTP for
	// SessionConfig.MediaTimeout while not on hold.
	ErrMediaTimeout = errors.New("media timeout: no RTP received")
	// ErrInterrupted is returned by Play when StopPlayback dropped its audio.
	ErrInterrupted = errors.New("playback interrupted")
	// ErrClosed is the cause of a session that was closed by its owner.
	ErrClosed = errors.New("media session closed")
	// ErrPortsExhausted is returned by Ports.Open when every port pair of
	// the range is in use.
	ErrPortsExhausted = errors.New("no free RTP port in range")
	// ErrNoDTMF is returned by SendDigit when no telephone-event payload
	// type was negotiated.
	ErrNoDTMF = errors.New("no telephone-event payload type negotiated")
	// ErrNotStarted is returned by methods that need a running session.
	ErrNotStarted = errors.New("media session not started")
	// ErrDigitQueueFull is returned by SendDigit when digits are queued
	// faster than they can be sent.
	ErrDigitQueueFull = errors.New("DTMF send queue full")
)
