package dialog

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

// TestOpenAIRetryAfterParsing: the provider's wait is read as OpenAI's
// milliseconds header first, then Retry-After in seconds or as a date.
func TestOpenAIRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		hint retryHint
		want time.Duration
		ok   bool
	}{
		{retryHint{retryAfter: "1"}, time.Second, true},
		{retryHint{retryAfter: " 0 "}, 0, true},
		{retryHint{retryAfter: "2", retryAfterMS: "1500"}, 1500 * time.Millisecond, true},
		{retryHint{retryAfter: "Sun, 01 Mar 2026 12:00:07 GMT"}, 7 * time.Second, true},
		{retryHint{retryAfter: "Sun, 01 Mar 2026 11:00:00 GMT"}, 0, true},
		{retryHint{retryAfter: "-3"}, 0, false},
		{retryHint{retryAfter: "soon"}, 0, false},
		{retryHint{}, 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(&tc.hint, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%+v: got %v %v, want %v %v", tc.hint, got, ok, tc.want, tc.ok)
		}
	}
}

// TestOpenAIBackoffIsJitteredAndCapped: without a Retry-After, waits grow
// from retryBase, stay within [d/2, d] and never pass retryCap.
func TestOpenAIBackoffIsJitteredAndCapped(t *testing.T) {
	for attempt := range 12 {
		d := min(retryBase<<min(attempt, 8), retryCap)
		seen := map[time.Duration]bool{}
		for range 50 {
			w := retryWait(attempt, &retryHint{}, time.Now())
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

// TestOpenAIRetryableErrors: rate limits, server errors and network
// failures are retried; other client errors, malformed answers and the
// end of the turn are not.
func TestOpenAIRetryableErrors(t *testing.T) {
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
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("%v: retryable %v, want %v", tc.err, got, tc.want)
		}
	}
}
