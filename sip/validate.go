package sip

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// RFC 3261 §8.1.1: every request carries these.
var mandatoryHeaders = []string{"Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards"}

// RFC 3261 §7.3.1 and §20: headers that may appear once. sipgo keeps the
// last From of two, so a second one would silently change who calls.
var singleHeaders = []string{"Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length"}

// requestSchemes are the Request-URI schemes a call can be routed by: a
// trunk sends sip:, sips: or tel: (RFC 3966); any other is answered 416
// (RFC 3261 §8.2.2.1). sipgo lower-cases the scheme.
var requestSchemes = map[string]bool{"sip": true, "sips": true, "tel": true}

// checkRequest applies what RFC 3261 requires of a request and sipgo's
// parser lets through. It returns 0 when the request may proceed, else the
// status and a reason phrase that names what is wrong.
func checkRequest(req *sip.Request) (status int, reason string) {
	if req.SipVersion != "SIP/2.0" {
		return 505, "Version Not Supported"
	}
	for _, name := range mandatoryHeaders {
		if len(req.GetHeaders(name)) == 0 {
			return 400, "Missing " + name + " Header"
		}
	}
	for _, name := range singleHeaders {
		if len(req.GetHeaders(name)) > 1 {
			return 400, "Duplicate " + name + " Header"
		}
	}
	if cseq := req.CSeq(); cseq == nil || cseq.MethodName != req.Method {
		return 400, "CSeq Method Does Not Match"
	}
	if !requestSchemes[req.Recipient.Scheme] {
		return 416, "Unsupported URI Scheme"
	}
	if !uriChars(req.Recipient.String()) {
		return 400, "Invalid Request-URI"
	}
	if req.Recipient.Headers != nil && req.Recipient.Headers.Length() > 0 {
		// RFC 3261 §19.1.1, Table 1: headers are not allowed in a
		// Request-URI. Taken liberally they would be headers a caller
		// slipped past the ones we check.
		return 400, "Headers Not Allowed In Request-URI"
	}
	if _, ok := requireTags(req); !ok {
		return 400, "Invalid Require Header"
	}
	if f := req.From(); f == nil || !uriChars(f.Address.String()) {
		return 400, "Invalid From URI"
	}
	if to := req.To(); to == nil || !uriChars(to.Address.String()) {
		return 400, "Invalid To URI"
	}
	return 0, ""
}

// uriChars reports whether a URI has only characters RFC 3261's grammar
// allows in one: no space, control character or non-ASCII byte, which
// must be %-escaped.
func uriChars(u string) bool {
	return u != "" && !strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r >= 0x7f })
}

// requireTags lists the option tags of the request's Require headers,
// the tokens of RFC 3261 §25.1 between commas; ok is false when one is not
// a token (they would go back in Unsupported).
func requireTags(req *sip.Request) (tags []string, ok bool) {
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if !isToken(tag) {
				return nil, false
			}
			tags = append(tags, tag)
		}
	}
	return tags, true
}

// isToken reports whether s is an RFC 3261 token.
func isToken(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-.!%*_+`'~", r))
	})
}

// unsupportedRequire lists the option tags the request's Require asks of
// us: all of them, as the gateway implements no extension a peer may
// require (100rel, timer, replaces). A UAS answers such a request 420
// with those tags in Unsupported (RFC 3261 §8.2.2.3), except ACK and
// CANCEL; Proxy-Require is for proxies and a UAS ignores it. checkRequest
// has seen that they are tokens.
func unsupportedRequire(req *sip.Request) []string {
	if req.IsAck() || req.IsCancel() {
		return nil
	}
	tags, _ := requireTags(req)
	return tags
}

// errAcceptNoSDP is why an INVITE whose Accept leaves out SDP is refused.
var errAcceptNoSDP = errors.New("accept leaves out application/sdp")

// acceptsSDP reports whether a response carrying SDP is acceptable to the
// request: no Accept means application/sdp (RFC 3261 §20.1), an empty one
// means nothing is, and else one of its media ranges must cover it. The
// answer to an INVITE carries SDP, so one that does not accept it gets
// 406 (RFC 4475 §3.3.15).
func acceptsSDP(req *sip.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	for _, h := range hs {
		for _, r := range strings.Split(h.Value(), ",") {
			mt, _, _ := strings.Cut(r, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/sdp", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}
