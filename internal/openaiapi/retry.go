package openaiapi

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Backoff between attempts when the provider gives no Retry-After: the
// wait doubles from retryBase up to retryCap, and half of it is random so
// that gateways retrying together after an outage do not retry in step.
const (
	retryBase = 250 * time.Millisecond
	retryCap  = 4 * time.Second
)

// RetryHint is where retryAfterTransport leaves the Retry-After of one
// attempt's response: go-openai's errors keep the status but not the
// headers. The transport runs in the goroutine that called the client, so
// the attempt reads it after the call without locking.
type RetryHint struct {
	retryAfter   string // Retry-After: seconds or an HTTP date
	retryAfterMS string // Retry-After-Ms: milliseconds, as OpenAI sends it
}

type hintKey struct{}

// WithRetryHint makes the requests made with the returned context record
// their response's Retry-After headers into h, for RetryWait to read.
func WithRetryHint(ctx context.Context, h *RetryHint) context.Context {
	return context.WithValue(ctx, hintKey{}, h)
}

// retryAfterTransport records the Retry-After headers of every response
// into the RetryHint its request's context carries, if any.
type retryAfterTransport struct{ base http.RoundTripper }

func (t *retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if h, ok := req.Context().Value(hintKey{}).(*RetryHint); ok {
			h.retryAfter = resp.Header.Get("Retry-After")
			h.retryAfterMS = resp.Header.Get("Retry-After-Ms")
		}
	}
	return resp, err
}

// HTTPClient returns the client a provider talks through: a copy of base
// (nil: a new one, with connectTimeout on dialling) whose transport records
// Retry-After. It sets no client Timeout: that would cut a long stream, and
// the caller's context deadline bounds everything already.
func HTTPClient(base *http.Client, connectTimeout time.Duration) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if connectTimeout > 0 {
			d := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
			tr.DialContext = d.DialContext
			tr.TLSHandshakeTimeout = connectTimeout
		}
		c.Transport = tr
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &retryAfterTransport{base: rt}
	return &c
}

// StatusOf returns the HTTP status of a failed request, 0 if it got none.
func StatusOf(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// Retryable reports whether an attempt that failed before its stream
// delivered anything may be tried again: rate limits (429), server errors
// (5xx) and network failures. Other 4xx (a bad key, an unknown model) and
// malformed answers fail the same way every time.
func Retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if status := StatusOf(err); status != 0 {
		return status == http.StatusTooManyRequests || status >= 500
	}
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// RetryWait is how long to wait before attempt+1 (attempt counts from 0):
// what the provider asked for in Retry-After-Ms or Retry-After if it did,
// else jittered exponential backoff.
func RetryWait(attempt int, h *RetryHint, now time.Time) time.Duration {
	if d, ok := parseRetryAfter(h, now); ok {
		return d
	}
	d := retryCap
	if attempt < 8 {
		d = min(retryBase<<attempt, retryCap)
	}
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads the provider's wait: Retry-After-Ms, else
// Retry-After as seconds or as an HTTP date.
func parseRetryAfter(h *RetryHint, now time.Time) (time.Duration, bool) {
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.retryAfterMS), 64); err == nil && ms >= 0 && ms < 1e9 {
		return time.Duration(ms * float64(time.Millisecond)), true
	}
	v := strings.TrimSpace(h.retryAfter)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 && s < 1e6 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
