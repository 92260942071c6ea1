package openaiapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// TestRetryAfterParsing: the provider's wait is read as OpenAI's
// milliseconds header first, then Retry-After in seconds or as a date.
func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		hint RetryHint
		want time.Duration
		ok   bool
	}{
		{RetryHint{retryAfter: "1"}, time.Second, true},
		{RetryHint{retryAfter: " 0 "}, 0, true},
		{RetryHint{retryAfter: "2", retryAfterMS: "1500"}, 1500 * time.Millisecond, true},
		{RetryHint{retryAfter: "Sun, 01 Mar 2026 12:00:07 GMT"}, 7 * time.Second, true},
		{RetryHint{retryAfter: "Sun, 01 Mar 2026 11:00:00 GMT"}, 0, true},
		{RetryHint{retryAfter: "-3"}, 0, false},
		{RetryHint{retryAfter: "soon"}, 0, false},
		{RetryHint{}, 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(&tc.hint, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%+v: got %v %v, want %v %v", tc.hint, got, ok, tc.want, tc.ok)
		}
	}
}

// TestBackoffIsJitteredAndCapped: without a Retry-After, waits grow
// from retryBase, stay within [d/2, d] and never pass retryCap.
func TestBackoffIsJitteredAndCapped(t *testing.T) {
	for attempt := range 12 {
		d := min(retryBase<<min(attempt, 8), retryCap)
		seen := map[time.Duration]bool{}
		for range 50 {
			w := RetryWait(attempt, &RetryHint{}, time.Now())
			if w < d/2 || w > d {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, w, d/2, d)
			}
			seen[w] = true
		}
		if len(seen) < 2 {
			t.Errorf("attempt %d: no jitter", attempt)
		}
	}
}

// TestRetryableErrors: rate limits, server errors and network
// failures are retried; other client errors, malformed answers and the
// end of the turn are not.
func TestRetryableErrors(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&openai.APIError{HTTPStatusCode: 429}, true},
		{&openai.APIError{HTTPStatusCode: 500}, true},
		{fmt.Errorf("wrapped: %w", &openai.RequestError{HTTPStatusCode: 503}), true},
		{&openai.APIError{HTTPStatusCode: 401}, false},
		{&openai.APIError{HTTPStatusCode: 400}, false},
		{&openai.APIError{Message: "error in the stream"}, false},
		{&url.Error{Op: "Post", URL: "http://x", Err: io.EOF}, true},
		{io.ErrUnexpectedEOF, true},
		{&url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, false},
		{context.Canceled, false},
		{errors.New("invalid character 'x' looking for beginning of value"), false},
	}
	for _, tc := range cases {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("%v: Retryable %v, want %v", tc.err, got, tc.want)
		}
	}
}
