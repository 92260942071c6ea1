package sip

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Context is what the human on the phone gets with a transferred call.
type Context struct {
	ConversationID string
	Reason         string // fixed handoff vocabulary, e.g. "customer_request"
	Trigger        string
	Topic          string
	Summary        string
	CallerNumber   string
	CalledNumber   string
	ConsoleURL     string // base of the agent console's conversation pages
}

// Masked returns c with mask applied to every field that may carry what
// was said in the conversation (summary, topic, reason, trigger), so that
// every header built from it, User-to-User and expanded templates
// included, carries masked text. The conversation id, the numbers and the
// console URL are identities and are kept.
func (c Context) Masked(mask func(string) string) Context {
	c.Summary, c.Topic, c.Reason, c.Trigger = mask(c.Summary), mask(c.Topic), mask(c.Reason), mask(c.Trigger)
	return c
}

// Header is one SIP header to send.
type Header struct {
	Name, Value string
}

// Names of the context headers, as sent on a bridged INVITE and embedded in
// a REFER's Refer-To URI.
const (
	HeaderConversation = "X-Switchboard-Conversation"
	HeaderReason       = "X-Switchboard-Reason"
	HeaderSummary      = "X-Switchboard-Summary"
	HeaderLink         = "X-Switchboard-Link"
	HeaderUserToUser   = "User-to-User"
)

// Size bounds. Every value is bounded because a REFER carries all of them
// inside one Refer-To URI, and trunks drop messages that outgrow a UDP
// datagram.
const (
	maxSummaryBytes  = 200 // X-Switchboard-Summary, ellipsis included
	maxIDBytes       = 128 // conversation id
	maxParamBytes    = 64  // reason, trigger and topic, each
	maxLinkBytes     = 512 // the link is left out rather than cut broken
	maxUUIDataBytes  = 128 // User-to-User data before hex encoding
	maxTemplateBytes = 512 // an expanded configured header value
	ellipsis         = "…"
	uuiParams        = ";encoding=hex"
)

// ErrUnsupportedTarget is returned by ReferTarget for a target it cannot
// turn into a Refer-To URI.
var ErrUnsupportedTarget = errors.New("unsupported refer target")

// UnknownVariableError is returned by ExpandTemplate for variables it does
// not know; config validation reports Names to the admin.
type UnknownVariableError struct {
	Names []string
}

func (e *UnknownVariableError) Error() string {
	return "unknown template variable(s): {{" + strings.Join(e.Names, "}}, {{") + "}}"
}

// ContextHeaders returns the context headers for a handoff, in a fixed
// order: X-Switchboard-Conversation, X-Switchboard-Reason (the reason with
// trigger and topic as parameters), X-Switchboard-Summary, X-Switchboard-Link
// (when ConsoleURL is set) and User-to-User (RFC 7433). Every value is
// header-safe and bounded; a header whose value would be empty is left out.
func ContextHeaders(c Context) []Header {
	var hs []Header
	add := func(name, value string) {
		if value != "" {
			hs = append(hs, Header{Name: name, Value: value})
		}
	}
	id := headerSafe(c.ConversationID, maxIDBytes)
	add(HeaderConversation, id)
	add(HeaderReason, reasonValue(c))
	add(HeaderSummary, headerSafe(c.Summary, maxSummaryBytes))
	add(HeaderLink, linkValue(c.ConsoleURL, id))
	add(HeaderUserToUser, userToUser(id, headerSafe(c.Reason, maxParamBytes)))
	return hs
}

// reasonValue is "reason;trigger=...;topic=...", each part a token or a
// quoted-string (RFC 3261 generic-param) so that a topic such as
// "billing; refunds" cannot add parameters of its own.
func reasonValue(c Context) string {
	reason := headerSafe(c.Reason, maxParamBytes)
	if reason == "" {
		return ""
	}
	v := tokenOrQuoted(reason)
	if t := headerSafe(c.Trigger, maxParamBytes); t != "" {
		v += ";trigger=" + tokenOrQuoted(t)
	}
	if t := headerSafe(c.Topic, maxParamBytes); t != "" {
		v += ";topic=" + tokenOrQuoted(t)
	}
	return v
}

// linkValue joins the console base URL and the conversation id. A link too
// long to send is left out: a cut URL would point nowhere.
func linkValue(consoleURL, id string) string {
	base := headerSafe(consoleURL, maxLinkBytes+1)
	if base == "" || id == "" {
		return ""
	}
	link := strings.TrimRight(base, "/") + "/" + url.PathEscape(id)
	if len(link) > maxLinkBytes {
		return ""
	}
	return link
}

// userToUser builds the RFC 7433 header value: hex-encoded data, then
// ";encoding=hex". No purpose parameter is sent: the only registered UUI
// package is "isdn-uui" (RFC 7434), which this payload is not, and an
// unregistered purpose would be a guess receivers ignore at best.
func userToUser(id, reason string) string {
	if id == "" && reason == "" {
		return ""
	}
	data := "conversation=" + escapeUUI(id)
	if len(data) > maxUUIDataBytes {
		data = data[:maxUUIDataBytes]
		if i := strings.LastIndexByte(data, '%'); i >= len(data)-2 {
			data = data[:i] // do not split an escape
		}
	}
	// The reason goes in whole or not at all; a cut reason misleads.
	if pair := ";reason=" + escapeUUI(reason); reason != "" && len(data)+len(pair) <= maxUUIDataBytes {
		data += pair
	}
	return hex.EncodeToString([]byte(data)) + uuiParams
}

// escapeUUI percent-escapes the bytes of a UUI value that are not token
// characters, so that ";" and "=" stay separators.
func escapeUUI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; isTokenByte(c) && c != '%' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&15])
		}
	}
	return b.String()
}

// ExpandTemplate fills a configured header value's variables: {{caller}},
// {{called}}, {{conversation}}, {{trigger}}, {{topic}} and {{summary}};
// spaces inside the braces are allowed. Values are substituted once, so a
// summary containing "{{caller}}" stays literal. An unknown variable is an
// *UnknownVariableError naming every unknown one. The result is header-safe
// and at most 512 bytes.
func ExpandTemplate(tmpl string, c Context) (string, error) {
	vars := map[string]string{
		"caller":       c.CallerNumber,
		"called":       c.CalledNumber,
		"conversation": c.ConversationID,
		"trigger":      c.Trigger,
		"topic":        c.Topic,
		"summary":      headerSafe(c.Summary, maxSummaryBytes),
	}
	var b strings.Builder
	var unknown []string
	rest := tmpl
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		end := strings.Index(rest[open+2:], "}}")
		if end < 0 {
			return "", fmt.Errorf("template %q: unterminated {{", tmpl)
		}
		name := strings.TrimSpace(rest[open+2 : open+2+end])
		v, ok := vars[name]
		if !ok && !contains(unknown, name) {
			unknown = append(unknown, name)
		}
		b.WriteString(v)
		rest = rest[open+2+end+2:]
	}
	if unknown != nil {
		return "", fmt.Errorf("template %q: %w", tmpl, &UnknownVariableError{Names: unknown})
	}
	return headerSafe(b.String(), maxTemplateBytes), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// headerSafe makes s fit in a SIP header value (RFC 3261 TEXT-UTF8): invalid
// UTF-8 and control characters are dropped, every run of white space
// (CR and LF included, so "x\r\nVia: evil" cannot start a header) becomes
// one space, the ends are trimmed, and a value over max bytes is cut on a
// rune boundary and ends in "…" within max.
func headerSafe(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), max+len(ellipsis)))
	space := false
	for i, r := range s {
		switch {
		case r == utf8.RuneError && isInvalidAt(s, i):
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
		if b.Len() > max {
			break // enough to know it must be cut
		}
	}
	return truncate(b.String(), max)
}

func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}

// truncate cuts s to at most max bytes on a rune boundary, ending in "…".
// A zero-width joiner left dangling by the cut is dropped with it.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(ellipsis)
	if cut < 0 {
		return ""
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	s = strings.TrimRight(s[:cut], " \u200d")
	return s + ellipsis
}

// tokenOrQuoted returns s as an RFC 3261 token when it is one, else as a
// quoted-string with '"' and '\' escaped as quoted-pairs.
func tokenOrQuoted(s string) string {
	token := s != ""
	for i := 0; i < len(s); i++ {
		token = token && isTokenByte(s[i])
	}
	if token {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// isTokenByte reports whether b may appear in an RFC 3261 token:
// alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
func isTokenByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		strings.IndexByte("-.!%*_+`'~", b) >= 0
}

// ReferTarget returns the Refer-To value for a fallback target: the target
// URI in angle brackets, with hs embedded as URI headers (RFC 3261 §19.1.1)
// so that the transferee's INVITE carries them. The target is a sip:, sips:
// or tel: URI from the config; tel: cannot carry headers (RFC 3966 has no
// such component), so headers with a tel: target are an error. An existing
// "?" in the target gets the headers "&"-joined after its own. Header values
// must already be header-safe: control characters are an error, because the
// receiver would decode them into the INVITE it sends.
func ReferTarget(target string, hs []Header) (string, error) {
	scheme, _, ok := strings.Cut(target, ":")
	if !ok || strings.ContainsAny(target, "<>\"# ") || hasControl(target) {
		return "", fmt.Errorf("refer target %q: %w", target, ErrUnsupportedTarget)
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips":
	case "tel":
		if len(hs) > 0 {
			return "", fmt.Errorf("refer target %q: a tel: URI cannot carry headers; use a sip: URI: %w", target, ErrUnsupportedTarget)
		}
	default:
		return "", fmt.Errorf("refer target %q: scheme %q: %w", target, scheme, ErrUnsupportedTarget)
	}
	var b strings.Builder
	b.WriteString("<")
	b.WriteString(target)
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
		if strings.HasSuffix(target, "?") || strings.HasSuffix(target, "&") {
			sep = ""
		}
	}
	for _, h := range hs {
		if h.Name == "" || hasControl(h.Name) || hasControl(h.Value) {
			return "", fmt.Errorf("refer target %q: header %q: empty name or control characters", target, h.Name)
		}
		b.WriteString(sep)
		b.WriteString(escapeURIHeader(h.Name))
		b.WriteString("=")
		b.WriteString(escapeURIHeader(h.Value))
		sep = "&"
	}
	b.WriteString(">")
	return b.String(), nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

const upperhex = "0123456789ABCDEF"

// escapeURIHeader escapes an hname or hvalue of a SIP URI. RFC 3261 §25.1:
//
//	header          =  hname "=" hvalue
//	hname           =  1*( hnv-unreserved / unreserved / escaped )
//	hvalue          =  *( hnv-unreserved / unreserved / escaped )
//	hnv-unreserved  =  "[" / "]" / "/" / "?" / ":" / "+" / "$"
//	unreserved      =  alphanum / mark
//	mark            =  "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
//	escaped         =  "%" HEXDIG HEXDIG
//
// Every other byte, including each byte of a multibyte UTF-8 character, is
// escaped. "+" is escaped too although the ABNF allows it bare: receivers
// that decode the headers as a form (Go's net/url among them) would read a
// bare "+" as a space.
func escapeURIHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isURIHeaderByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
	return b.String()
}

// isURIHeaderByte reports whether c may stand unescaped in an hname or
// hvalue: alphanum, mark or hnv-unreserved, less "+".
func isURIHeaderByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-_.!~*'()[]/?:$", c) >= 0
}
