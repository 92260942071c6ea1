// Package webhook is the handoff webhook: it posts outbox items (each
// handoff's context packet, masked) to the URL a contact center configured
// (handoff.webhook), so that its own systems (helpdesk, CRM) hear of every
// handoff. It speaks HTTP and nothing else: what goes out is the gateway's
// to build, and when, the outbox worker's to decide.
//
// It never puts the URL in an error or a log line: a webhook URL often
// carries its own credential in the path.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard/delivery"
	"switchboard/store"
)

// Kind is the outbox destination kind the webhook sends.
const Kind = "webhook"

// The headers a post carries besides Content-Type and User-Agent.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the body
	// with the secret (see Sign); only when a secret is configured.
	HeaderSignature = "X-Switchboard-Signature"
	// HeaderInstance names the gateway process that sent the post.
	HeaderInstance = "X-Switchboard-Instance"
)

// maxResponse bounds what is read of a response: enough for an error
// message, and a receiver answering megabytes costs nothing.
const maxResponse = 4 << 10

// Target is where posts go, as the config in force says.
type Target struct {
	URL    string // "" when the webhook is off
	Secret []byte // signs each body; empty: posts go unsigned
}

// Options are the sender's dependencies.
type Options struct {
	// Target is read at every attempt, so a reloaded config applies to
	// the next one.
	Target func() Target
	// Instance names this gateway process in HeaderInstance.
	Instance string
	// Client sends the posts; nil: a client of the sender's own. Either
	// way redirects are not followed (a POST redirected becomes a GET).
	Client *http.Client
	// Now reads a Retry-After date; nil: time.Now.
	Now func() time.Time
}

// Sender posts outbox items to the webhook.
type Sender struct {
	o      Options
	client *http.Client
}

var _ delivery.Sender = (*Sender)(nil)

// New returns a sender.
func New(o Options) *Sender {
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &http.Client{}
	if o.Client != nil {
		cc := *o.Client
		c = &cc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Sender{o: o, client: c}
}

// Send posts the item's payload as JSON. A 2xx answer delivers it; 408,
// 425, 429 and 5xx, or no answer, are worth another attempt (after the
// receiver's Retry-After, when it gave one); any other answer is
// delivery.Permanent. The request ends with ctx.
func (s *Sender) Send(ctx context.Context, it store.OutboxItem) error {
	tg := s.o.Target()
	if tg.URL == "" {
		return delivery.Permanent(errors.New("webhook: handoff.webhook.url is empty: the webhook was turned off"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.URL, bytes.NewReader(it.Payload))
	if err != nil {
		return delivery.Permanent(errors.New("webhook: handoff.webhook.url does not make a request"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard")
	req.Header.Set(HeaderIdempotencyKey, it.IdempotencyKey)
	req.Header.Set(HeaderInstance, s.o.Instance)
	if len(tg.Secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(tg.Secret, it.Payload))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the URL
		}
		return fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse)) // only for the error message
	return s.outcome(resp, body)
}

// outcome turns the receiver's answer into what the outbox does next.
func (s *Sender) outcome(resp *http.Response, body []byte) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	err := fmt.Errorf("webhook: answered %s%s", resp.Status, quote(body))
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), s.o.Now()); ok {
			return &delivery.RetryAfter{After: d, Err: err}
		}
		return err
	case code >= 300 && code <= 399:
		return delivery.Permanent(fmt.Errorf("%w; redirects are not followed: set handoff.webhook.url to where it leads", err))
	}
	return delivery.Permanent(err)
}

// Sign is the value of HeaderSignature for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret. A receiver checks a post by
// computing it over the raw body and comparing in constant time.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// retryAfter reads a Retry-After value, whole seconds or an HTTP date, as
// the wait from now; false when there is none to honour.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	var d time.Duration
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return d, d > 0
}

// errorBody bounds the receiver's words kept in an error.
const errorBody = 200

// quote is the start of a response body for an error message: ": " and up
// to errorBody bytes of it on one line, or "" when it is empty.
func quote(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" {
		return ""
	}
	if len(s) > errorBody {
		cut := errorBody
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return ": " + s
}
