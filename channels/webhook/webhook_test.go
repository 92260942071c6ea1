package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard/channels/webhook"
	"switchboard/delivery"
	"switchboard/store"
)

var item = store.OutboxItem{ID: 7, Destination: webhook.Kind, IdempotencyKey: "handoff-42",
	Payload: []byte(`{"event":"handoff","status":"pending","id":"c-1"}`)}

// received is one request as the receiver saw it.
type received struct {
	header http.Header
	method string
	body   []byte
}

// receiver is a webhook endpoint that records each request and answers
// with answer.
func receiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) (string, <-chan received) {
	t.Helper()
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{header: r.Header.Clone(), method: r.Method, body: b}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hooks/switchboard", got
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

func sender(url string, secret string) *webhook.Sender {
	return webhook.New(webhook.Options{Target: func() webhook.Target { return webhook.Target{URL: url, Secret: []byte(secret)} },
		Instance: "gw-a"})
}

func TestWebhookSendPostsSignedJSON(t *testing.T) {
	url, got := receiver(t, ok)
	const secret = "whsec-0123456789"
	if err := sender(url, secret).Send(context.Background(), item); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := <-got
	if r.method != http.MethodPost || string(r.body) != string(item.Payload) {
		t.Errorf("got %s %q, want POST of the payload", r.method, r.body)
	}
	for h, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "Switchboard",
		"Idempotency-Key": "handoff-42", "X-Switchboard-Instance": "gw-a"} {
		if v := r.header.Get(h); v != want {
			t.Errorf("%s: %q, want %q", h, v, want)
		}
	}
	// The receiver's check, written as its documentation says.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(r.body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if sig := r.header.Get("X-Switchboard-Signature"); !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("signature %q, want %q", sig, want)
	}
	if webhook.Sign([]byte("another secret"), r.body) == want {
		t.Error("the signature does not depend on the secret")
	}
}

func TestWebhookSendUnsignedWithoutSecret(t *testing.T) {
	url, got := receiver(t, ok)
	if err := sender(url, "").Send(context.Background(), item); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sig, ok := (<-got).header["X-Switchboard-Signature"]; ok {
		t.Errorf("unsigned post carries a signature %q", sig)
	}
}

// Each class of answer leads where the outbox needs it: delivered, tried
// again (after Retry-After when given), or given up.
func TestWebhookSendOutcomeByStatus(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const (
		delivered = "delivered"
		retry     = "retry"
		permanent = "permanent"
	)
	tests := []struct {
		status     int
		retryAfter string
		want       string
		wait       time.Duration // the RetryAfter asked for; 0: none
	}{
		{200, "", delivered, 0},
		{202, "", delivered, 0},
		{204, "", delivered, 0},
		{408, "", retry, 0},
		{425, "", retry, 0},
		{429, "", retry, 0},
		{429, "7", retry, 7 * time.Second},
		{503, "Wed, 25 Nov 2026 12:01:30 GMT", retry, 90 * time.Second},
		{503, "Wed, 25 Nov 2026 11:00:00 GMT", retry, 0}, // a date gone by: the usual backoff
		{503, "soon", retry, 0},
		{500, "", retry, 0},
		{502, "", retry, 0},
		{504, "", retry, 0},
		{301, "", permanent, 0}, // not followed: a redirected POST becomes a GET
		{400, "", permanent, 0},
		{401, "", permanent, 0},
		{404, "", permanent, 0},
		{410, "", permanent, 0},
		{413, "", permanent, 0},
		{422, "", permanent, 0},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status)+" "+tt.retryAfter, func(t *testing.T) {
			redirected := make(chan struct{}, 1)
			mux := http.NewServeMux()
			mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { redirected <- struct{}{} })
			mux.HandleFunc("/hooks/switchboard", func(w http.ResponseWriter, _ *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				if tt.status == 301 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"error":"busy"}`)
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			s := webhook.New(webhook.Options{Target: func() webhook.Target { return webhook.Target{URL: srv.URL + "/hooks/switchboard"} },
				Now: func() time.Time { return now }})
			err := s.Send(context.Background(), item)
			var ra *delivery.RetryAfter
			switch {
			case tt.want == delivered && err != nil:
				t.Fatalf("err = %v, want delivered", err)
			case tt.want == retry && (err == nil || delivery.IsPermanent(err)):
				t.Fatalf("err = %v, want one worth retrying", err)
			case tt.want == permanent && !delivery.IsPermanent(err):
				t.Fatalf("err = %v, want a permanent one", err)
			case errors.As(err, &ra) != (tt.wait > 0) || (ra != nil && ra.After != tt.wait):
				t.Fatalf("err = %#v, want a wait of %s", err, tt.wait)
			}
			if err != nil && !strings.Contains(err.Error(), `{"error":"busy"}`) {
				t.Errorf("err %q does not quote the receiver", err)
			}
			if len(redirected) > 0 {
				t.Error("the redirect was followed")
			}
		})
	}
}

// The target is read at each attempt: a reload that moves the webhook
// applies to the next post, and one that turns it off gives items up.
func TestWebhookSendReadsTheTargetEachTime(t *testing.T) {
	first, gotFirst := receiver(t, ok)
	second, gotSecond := receiver(t, ok)
	target := webhook.Target{URL: first}
	s := webhook.New(webhook.Options{Target: func() webhook.Target { return target }})
	if err := s.Send(context.Background(), item); err != nil {
		t.Fatal(err)
	}
	target.URL = second
	if err := s.Send(context.Background(), item); err != nil {
		t.Fatal(err)
	}
	if len(gotFirst) != 1 || len(gotSecond) != 1 {
		t.Errorf("posts: %d to the first URL, %d to the second; want one each", len(gotFirst), len(gotSecond))
	}
	target.URL = ""
	if err := s.Send(context.Background(), item); !delivery.IsPermanent(err) {
		t.Errorf("with the webhook off: %v, want a permanent error", err)
	}
}

// A receiver that does not answer is cut off when the send's context ends,
// and that is worth another attempt.
func TestWebhookSendEndsWithItsContext(t *testing.T) {
	url, got := receiver(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := sender(url, "").Send(ctx, item)
	if err == nil || delivery.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline, worth retrying", err)
	}
	if len(got) != 1 {
		t.Errorf("the receiver saw %d requests", len(got))
	}
}

// Errors go to logs and the outbox's last_error: they keep the URL out
// (it may carry a credential) and only the start of a long answer.
func TestWebhookSendErrorsKeepTheURLOutAndStayShort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hooks/T0001/s3cr3t-path-token"
	ln.Close()
	err = sender(closed, "").Send(context.Background(), item)
	if err == nil || delivery.IsPermanent(err) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("refused connection: %v; want a retry that names no URL", err)
	}

	url, _ := receiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, strings.Repeat("stack trace line\n", 1<<16))
	})
	err = sender(url, "").Send(context.Background(), item)
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("a megabyte of answer: %d bytes of error, want a short one", len(err.Error()))
	}
}
