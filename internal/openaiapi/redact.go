package openaiapi

import (
	"regexp"
	"strings"
)

// A provider's error text is partly its answer's body, and some providers
// (and proxies in front of them) echo the request's headers or key in it.
// That text ends up in logs and in errors the conductor keeps, so every
// error from a provider call passes through a Redactor first.

// credentialPatterns match what looks like a credential in error text, with
// what replaces it: the values of Authorization and API-key headers or
// fields (keeping their scheme), bearer tokens, and OpenAI-style keys
// (sk-..., sk-proj-..., including partly masked echoes such as
// sk-abc***xyz). A value already [redacted] matches whole, so that a later
// pattern does not take the scheme for the value.
var credentialPatterns = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)\b(api[-_]?key|authorization)("?\s*[:=]\s*"?)((?:bearer|basic|token)\s+)?(?:\[redacted\]|` + credentialChars + `)`),
		"$1$2$3[redacted]"},
	{regexp.MustCompile(`(?i)\bbearer\s+(?:\[redacted\]|` + credentialChars + `)`), "Bearer [redacted]"},
	{regexp.MustCompile(`\bsk-[A-Za-z0-9_*\-]{6,}`), "sk-[redacted]"},
}

// credentialChars is a credential's value: up to a space, quote, separator
// or bracket.
const credentialChars = `[^\s"',;}\[\]]+`

// minKeyRedact is the shortest configured key redacted wherever it appears.
// Shorter values are placeholders for local servers that take any key
// ("ollama", "none"); replacing them in the text would mangle the message
// (a host named ollama in a URL) while hiding nothing.
const minKeyRedact = 8

// Redactor takes credentials out of a provider's errors: the configured
// key itself and anything that looks like one. NewClient returns the one
// for its key.
type Redactor struct{ key string }

// Redact returns err with credentials removed from its text. It unwraps to
// err, so the status and kind (StatusOf, Retryable) still read through it;
// only the text changes. nil stays nil.
func (r Redactor) Redact(err error) error {
	if err == nil {
		return nil
	}
	text := r.text(err.Error())
	if text == err.Error() {
		return err
	}
	return &redactedError{text: text, err: err}
}

// text is s with credentials removed.
func (r Redactor) text(s string) string {
	if len(r.key) >= minKeyRedact {
		s = strings.ReplaceAll(s, r.key, "[redacted]")
	}
	for _, p := range credentialPatterns {
		s = p.re.ReplaceAllString(s, p.with)
	}
	return s
}

// redactedError is a provider's error whose text has had credentials
// removed.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
