package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// replyTimeout is how long a request, a dial or an AI reply may take before
// it counts as an error.
const replyTimeout = 5 * time.Second

// client is what every conversation shares: the gateway's address, the
// HTTP client and the counters.
type client struct {
	base     string // http://host:port
	ws       string // ws://host:port
	hc       *http.Client
	interval time.Duration
	tally    *tally

	// opened counts the streams opened, live those open now, and dropped
	// those that ended before the run closed them.
	opened, live, dropped, sent, answered atomic.Int64
}

// conversation is one customer's chat: its stream and what the stream's
// reader tells the sender.
type conversation struct {
	id, token string
	conn      *websocket.Conn
	replies   chan reply    // from the reader to the sender
	done      chan struct{} // closed when the reader stops
	closing   atomic.Bool   // we are closing it: the end is not an error
	handedOff atomic.Bool
}

// open creates a conversation and opens its stream.
func (c *client) open(ctx context.Context) (*conversation, error) {
	ctx, cancel := context.WithTimeout(ctx, replyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/conversations", strings.NewReader(`{"channel":"web"}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("create: %s", errKind(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("create: HTTP %d", resp.StatusCode)
	}
	var cv conversation
	var created struct{ ID, Token string }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.ID == "" || created.Token == "" {
		return nil, errors.New("create: bad answer")
	}
	cv.id, cv.token = created.ID, created.Token
	u := c.ws + "/api/v1/conversations/" + url.PathEscape(cv.id) + "/stream?token=" + url.QueryEscape(cv.token)
	conn, wsResp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c.hc})
	if err != nil {
		if wsResp != nil && wsResp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("dial: HTTP %d", wsResp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %s", errKind(err))
	}
	cv.conn = conn
	cv.replies = make(chan reply, 8)
	cv.done = make(chan struct{})
	return &cv, nil
}

// reply is an AI reply, or an error event in its place, as the reader
// received it.
type reply struct {
	at  time.Time
	err error
}

// serverEvent is the part of a stream event the load generator reads.
type serverEvent struct {
	Type    string `json:"type"`
	Message *struct {
		Role string `json:"role"`
	} `json:"message"`
	Error string `json:"error"`
}

// read is the stream's reader: it passes AI replies and error events to
// the sender until the stream ends.
func (c *client) read(ctx context.Context, cv *conversation) {
	defer close(cv.done)
	t := c.tally
	for {
		_, data, err := cv.conn.Read(ctx)
		at := time.Now()
		if err != nil {
			if !cv.closing.Load() && ctx.Err() == nil {
				c.dropped.Add(1)
				t.fail("stream closed: " + closeKind(err))
			}
			return
		}
		var ev serverEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			t.fail("bad event")
			continue
		}
		switch {
		case ev.Type == "message" && ev.Message != nil && ev.Message.Role == "ai":
			cv.signal(reply{at: at})
		case ev.Type == "error":
			t.fail("error event: " + ev.Error)
			cv.signal(reply{at: at, err: errors.New(ev.Error)})
		case ev.Type == "handoff":
			cv.handedOff.Store(true)
			t.fail("handed off to humans")
		}
	}
}

func (cv *conversation) signal(r reply) {
	select {
	case cv.replies <- r:
	default: // more replies than questions; the sender drains them
	}
}

// talk sends the conversation's messages until send ends, one every
// interval on average, each after the previous one's reply. It waits for
// the reply to the last one until wait ends.
func (c *client) talk(send, wait context.Context, cv *conversation, rng *rand.Rand) {
	qs := askOrder(rng)
	next := time.Now().Add(time.Duration(rng.Int64N(int64(c.interval)))) // spread the first messages over one interval
	for i := 0; ; i++ {
		if !sleepUntil(send, next) || cv.handedOff.Load() || cv.ended() {
			return
		}
		drain(cv.replies)
		b, _ := json.Marshal(map[string]string{"type": "message", "text": qs[i%len(qs)]})
		wctx, cancel := context.WithTimeout(wait, replyTimeout)
		sentAt := time.Now()
		err := cv.conn.Write(wctx, websocket.MessageText, b)
		cancel()
		if err != nil {
			c.tally.fail("send: " + errKind(err))
			return
		}
		c.sent.Add(1)
		next = sentAt.Add(jitter(rng, c.interval))
		if !c.await(wait, cv, sentAt) {
			return
		}
	}
}

// await waits for the reply to a message sent at sentAt. A reply later than
// replyTimeout is an error, and still a sample when it comes.
func (c *client) await(ctx context.Context, cv *conversation, sentAt time.Time) bool {
	timer := time.NewTimer(replyTimeout)
	defer timer.Stop()
	for {
		select {
		case r := <-cv.replies:
			if r.err == nil {
				c.tally.roundTrip(r.at.Sub(sentAt))
				c.answered.Add(1)
			}
			return true
		case <-timer.C:
			c.tally.fail("no reply within 5s")
		case <-cv.done:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// ended reports whether the stream has closed (the reader counted why).
func (cv *conversation) ended() bool {
	select {
	case <-cv.done:
		return true
	default:
		return false
	}
}

// close ends the stream normally and waits for its reader.
func (cv *conversation) close() {
	cv.closing.Store(true)
	cv.conn.Close(websocket.StatusNormalClosure, "")
	<-cv.done
}

// jitter is a wait of mean d, uniform in [d/2, 3d/2).
func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	return d/2 + time.Duration(rng.Int64N(int64(d)))
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func drain(ch chan reply) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// errKind names a transport error in a few words, so errors count by kind.
func errKind(err error) string {
	for _, k := range []struct {
		target error
		kind   string
	}{
		{context.DeadlineExceeded, "timeout"},
		{syscall.ECONNREFUSED, "connection refused"},
		{syscall.ECONNRESET, "connection reset"},
		{syscall.EPIPE, "broken pipe"},
		{syscall.EMFILE, "too many open files"},
		{syscall.EADDRNOTAVAIL, "no free local port"},
		{io.EOF, "connection closed"},
		{io.ErrUnexpectedEOF, "connection closed"},
	} {
		if errors.Is(err, k.target) {
			return k.kind
		}
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return truncate(err.Error(), 60)
}

// closeKind names why a stream ended.
func closeKind(err error) string {
	if s := websocket.CloseStatus(err); s != -1 {
		return fmt.Sprintf("close %d %s", int(s), s)
	}
	return errKind(err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
