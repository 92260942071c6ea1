package sip

import (
	"errors"
	"fmt"
	"strings"
)

// Errors wrapped by *Error so callers and tests can branch with errors.Is.
var (
	ErrSDPTooLarge        = errors.New("sdp: body too large")
	ErrSDPMalformed       = errors.New("sdp: malformed")
	ErrNoAudio            = errors.New("sdp: no audio stream")
	ErrSRTPNotSupported   = errors.New("sdp: SRTP not supported")
	ErrTransport          = errors.New("sdp: unsupported transport")
	ErrAddress            = errors.New("sdp: unsupported connection address")
	ErrNoCommonCodec      = errors.New("sdp: no common codec")
	ErrLocalMisconfigured = errors.New("sdp: local media misconfigured")
)

// Error is an error that carries the SIP response it must produce: a status
// code and the value of a Warning header (RFC 3261 §20.43), so the edge can
// answer any failure in one place.
type Error struct {
	Status  int    // SIP status code, e.g. 400 or 488
	Warning string // Warning header value, e.g. `305 switchboard "Incompatible media format: ..."`
	Err     error  // the cause
}

// The edge answers any error that has SIPStatus with that status.
var _ interface{ SIPStatus() int } = (*Error)(nil)

// Error returns the status, the warning and the cause.
func (e *Error) Error() string {
	return fmt.Sprintf("sip %d: %v", e.Status, e.Err)
}

// SIPStatus returns the SIP status code the error answers with.
func (e *Error) SIPStatus() int { return e.Status }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Warning codes from RFC 3261 §20.43 that SDP negotiation uses.
const (
	warnIncompatibleTransport = 302
	warnIncompatibleAddress   = 301
	warnMediaNotAvailable     = 304
	warnIncompatibleFormat    = 305
	warnMulticast             = 330
	warnMisc                  = 399
)

var warnTexts = map[int]string{
	warnIncompatibleAddress:   "Incompatible network address formats",
	warnIncompatibleTransport: "Incompatible transport protocol",
	warnMediaNotAvailable:     "Media type not available",
	warnIncompatibleFormat:    "Incompatible media format",
	warnMulticast:             "Multicast not available",
	warnMisc:                  "Miscellaneous warning",
}

// warnAgent is the warn-agent of our Warning headers.
const warnAgent = "switchboard"

// maxWarnDetail bounds the detail so a hostile offer cannot bloat our response.
const maxWarnDetail = 120

// sdpError builds an *Error whose Warning reads `code switchboard "Text: detail"`.
// The detail may quote the offer, so it is reduced to printable ASCII without
// quotes or backslashes and bounded in length.
func sdpError(status, code int, cause error, detail string) *Error {
	text := warnTexts[code] + ": " + quotable(detail)
	return &Error{
		Status:  status,
		Warning: fmt.Sprintf("%d %s %q", code, warnAgent, text),
		Err:     fmt.Errorf("%w: %s", cause, detail),
	}
}

func quotable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxWarnDetail {
			break
		}
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
