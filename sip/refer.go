package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Stages of a failed REFER, in ReferError.Stage.
const (
	ReferStageRefer  = "refer"  // the REFER itself was refused (>= 300) or never answered (408)
	ReferStageNotify = "notify" // accepted, but the transfer failed as reported by NOTIFY
)

// ReferError is a transfer the peer refused or could not complete. The
// call is still up whenever Refer returns one.
type ReferError struct {
	Stage  string // ReferStageRefer or ReferStageNotify
	Status int    // the REFER's response status, or the sipfrag's; 0 when the subscription ended without a final status
	Reason string
}

func (e *ReferError) Error() string {
	return fmt.Sprintf("refer failed at %s: %d %s", e.Stage, e.Status, e.Reason)
}

// ErrReferInProgress is returned by Refer while another Refer of the same
// call is waiting for its outcome.
var ErrReferInProgress = errors.New("a refer is already in progress")

// maxSipfrag bounds a NOTIFY body we parse.
const maxSipfrag = 4096

type notifyEvent struct {
	status     int // from the sipfrag status line, 0 if the NOTIFY had no body
	reason     string
	terminated bool // Subscription-State: terminated
}

type referSink struct{ events chan notifyEvent }

// Refer asks the peer to transfer the call to target (RFC 3515): REFER
// with Refer-To = ReferTarget(target, hs) and Referred-By = our identity,
// then the NOTIFYs of the implicit subscription, each answered 200. It
// returns nil when a NOTIFY reports a final 2xx; the caller then hangs up.
// A REFER answered >= 300 or unanswered is a *ReferError with Stage
// "refer"; a sipfrag >= 300, or the subscription ending without a final
// status, is Stage "notify". ctx bounds the whole wait; when the call ends
// first the error wraps the call's cause (e.g. ErrRemoteHangup). Refer
// never ends the call.
func (c *Call) Refer(ctx context.Context, target string, hs []Header) (err error) {
	referTo, err := ReferTarget(target, hs)
	if err != nil {
		return fmt.Errorf("refer: %w", err)
	}
	sink, err := c.startRefer()
	if err != nil {
		return fmt.Errorf("refer %s: %w", target, err)
	}
	defer c.stopRefer()
	defer func() { c.srv.metrics.refers.WithLabelValues(referResult(err)).Inc() }()
	ctx, stop := mergeCancel(ctx, c.ctx)
	defer stop()

	newRefer := func() *sip.Request {
		c.mu.Lock()
		req := sip.NewRequest(sip.REFER, *c.target.Clone())
		c.mu.Unlock()
		req.AppendHeader(sip.NewHeader("Refer-To", referTo))
		req.AppendHeader(sip.NewHeader("Referred-By", "<"+c.srv.identity()+">"))
		return req
	}
	res, err := c.do(ctx, newRefer())
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		// A carrier that authenticates what we send it challenges the
		// REFER: answer once with the call's trunk's credentials.
		if req, ok := c.authorized(newRefer(), res); ok {
			res, err = c.do(ctx, req)
		}
	}
	switch {
	case errors.Is(err, sip.ErrTransactionTimeout):
		return &ReferError{Stage: ReferStageRefer, Status: 408, Reason: "no response to REFER"}
	case err != nil:
		return fmt.Errorf("refer %s: %w", target, errors.Join(err, context.Cause(ctx)))
	case res.StatusCode >= 300:
		return &ReferError{Stage: ReferStageRefer, Status: res.StatusCode, Reason: res.Reason}
	}
	c.log.Info("sip refer accepted", "status", res.StatusCode)
	return awaitNotify(ctx, sink)
}

func awaitNotify(ctx context.Context, sink *referSink) error {
	for {
		select {
		case ev := <-sink.events:
			switch {
			case ev.status >= 200 && ev.status < 300:
				return nil
			case ev.status >= 300:
				return &ReferError{Stage: ReferStageNotify, Status: ev.status, Reason: ev.reason}
			case ev.terminated:
				return &ReferError{Stage: ReferStageNotify, Status: 0, Reason: "subscription terminated without a final status"}
			}
		case <-ctx.Done():
			return fmt.Errorf("refer: waiting for NOTIFY: %w", context.Cause(ctx))
		}
	}
}

func referResult(err error) string {
	var re *ReferError
	switch {
	case err == nil:
		return "accepted"
	case errors.As(err, &re) && re.Stage == ReferStageRefer && re.Status != 408:
		return "rejected"
	case errors.As(err, &re) && re.Stage == ReferStageNotify:
		return "failed"
	}
	return "error"
}

func (c *Call) startRefer() (*referSink, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state != stateUp && c.Err() != nil:
		return nil, fmt.Errorf("%w: call ended: %w", ErrCallState, c.Err())
	case c.state != stateUp:
		return nil, ErrCallState
	case c.refer != nil:
		return nil, ErrReferInProgress
	}
	// Registered before the REFER goes out: a NOTIFY may overtake the 202.
	c.refer = &referSink{events: make(chan notifyEvent, 16)}
	return c.refer, nil
}

func (c *Call) stopRefer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refer = nil
}

// onNotify takes the NOTIFYs of a refer subscription (RFC 3515 §2.4.4).
// Late NOTIFYs, after Refer returned, are still answered 200 so the
// notifier ends its subscription cleanly.
func (c *Call) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	if eventPackage(req) != "refer" {
		c.srv.respond(req, tx, 489, reasonPhrase(489))
		return
	}
	ev := notifyEvent{terminated: subscriptionTerminated(req)}
	if body := req.Body(); len(body) > 0 {
		var err error
		if ev.status, ev.reason, err = ParseSipfrag(body); err != nil {
			c.log.Info("sip notify with a bad sipfrag", "err", err)
			c.srv.respond(req, tx, 400, "Bad Sipfrag")
			return
		}
	}
	c.srv.respond(req, tx, 200, "OK")
	c.mu.Lock()
	sink := c.refer
	c.mu.Unlock()
	if sink == nil {
		return
	}
	select {
	case sink.events <- ev:
	default:
		c.log.Warn("sip notify dropped: refer not reading", "status", ev.status)
	}
}

func eventPackage(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o") // compact form
	}
	if h == nil {
		return ""
	}
	pkg, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(pkg))
}

func subscriptionTerminated(req *sip.Request) bool {
	h := req.GetHeader("Subscription-State")
	if h == nil {
		return false
	}
	state, _, _ := strings.Cut(h.Value(), ";")
	return strings.EqualFold(strings.TrimSpace(state), "terminated")
}

// ParseSipfrag reads the status line of a message/sipfrag body (RFC 3420)
// as sent in refer NOTIFYs, e.g. "SIP/2.0 200 OK": the status code
// (100-699) and the reason phrase. Header lines after it are ignored.
func ParseSipfrag(body []byte) (status int, reason string, err error) {
	if len(body) > maxSipfrag {
		return 0, "", fmt.Errorf("sipfrag: %d bytes exceeds %d", len(body), maxSipfrag)
	}
	line, _, _ := strings.Cut(string(body), "\n")
	line = strings.TrimRight(line, "\r \t")
	version, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.EqualFold(version, "SIP/2.0") {
		return 0, "", fmt.Errorf("sipfrag: not a status line: %q", quotable(line))
	}
	code, reason, _ := strings.Cut(rest, " ")
	status, err = strconv.Atoi(code)
	if err != nil || len(code) != 3 || status < 100 || status > 699 {
		return 0, "", fmt.Errorf("sipfrag: bad status code %q", quotable(code))
	}
	return status, quotable(reason), nil
}

// authorized adds to req the answer to res's digest challenge (401 or
// 407) with the credentials of the trunk the call came from; false when
// the trunk has none or the challenge cannot be answered.
func (c *Call) authorized(req *sip.Request, res *sip.Response) (*sip.Request, bool) {
	t, _ := c.srv.adm.trunkNamed(c.trunk)
	user, pass := t.Username, t.Password
	challengeHeader, answerHeader := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		challengeHeader, answerHeader = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(challengeHeader)
	if user == "" || pass == "" || h == nil {
		return nil, false
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return nil, false
	}
	cred, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: req.Recipient.String(),
		Username: user, Password: pass, Count: 1})
	if err != nil {
		return nil, false
	}
	req.AppendHeader(sip.NewHeader(answerHeader, cred.String()))
	return req, true
}
