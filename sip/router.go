package sip

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// route takes every request sipgo's transaction layer passes up (sipgo
// runs it in a goroutine per request). Requests of a known dialog go to
// its Call or Leg, which checks their source (a Call takes them only from
// where it was set up: Call.fromPeer). Everything else must pass admission.
func (s *Server) route(req *sip.Request, tx sip.ServerTransaction) {
	if !s.enter() {
		return
	}
	defer s.inflight.Done()
	if !s.withinLimits(req, tx) {
		return
	}
	if status, reason := checkRequest(req); status != 0 {
		// Nothing else happens: no dialog, no call, no transaction kept.
		s.metrics.rejected.WithLabelValues(rejectMalformed).Inc()
		s.rejectLog.Log(slog.LevelWarn, "sip request refused", "method", string(req.Method),
			"source", req.MessageData.Source(), "status", status, "reason", reason)
		if !req.IsAck() {
			s.respond(req, tx, status, reason)
		}
		endRefusal(req, tx)
		return
	}
	if tags := unsupportedRequire(req); len(tags) > 0 {
		s.metrics.rejected.WithLabelValues(rejectExtension).Inc()
		res := s.response(req, 420, "Bad Extension", nil)
		res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
		s.send(tx, res)
		endRefusal(req, tx)
		return
	}
	key, inDialog := requestDialogKey(req)
	if inDialog {
		if d := s.lookup(key); d != nil {
			d.handleInDialog(req, tx)
			return
		}
	}
	if req.IsAck() {
		return // an ACK whose dialog is gone, or for a response we never sent
	}
	v := s.adm.admit(req)
	if !v.admitted() {
		s.refuse(req, tx, v)
		return
	}
	switch {
	case inDialog, req.IsCancel():
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
	case req.IsInvite():
		s.onInvite(req, tx, v.trunk)
	case req.Method == sip.OPTIONS:
		s.onOptions(req, tx)
	default:
		s.refuseMethod(req, tx)
	}
}

// knownMethods are the methods of RFC 3261 and its extensions that the
// gateway recognises, whether or not it takes them.
var knownMethods = map[sip.RequestMethod]bool{
	sip.INVITE: true, sip.ACK: true, sip.CANCEL: true, sip.BYE: true, sip.OPTIONS: true,
	sip.REGISTER: true, sip.SUBSCRIBE: true, sip.NOTIFY: true, sip.PUBLISH: true, sip.REFER: true,
	sip.INFO: true, sip.MESSAGE: true, sip.PRACK: true, sip.UPDATE: true,
}

// refuseMethod answers a request of a method the gateway does not take
// where it came: 405 with Allow for a method it knows (RFC 3261 §8.2.1),
// 501 for one it does not recognise (§21.5.2). Methods are compared as
// sent: RE%47IST%45R is not REGISTER.
func (s *Server) refuseMethod(req *sip.Request, tx sip.ServerTransaction) {
	if !knownMethods[req.Method] {
		s.respond(req, tx, 501, reasonPhrase(501))
		return
	}
	res := s.response(req, 405, reasonPhrase(405), nil)
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	s.send(tx, res)
}

// refuse answers a request that failed admission: a digest challenge, or
// 403 counted and logged (rate-limited: scanners send floods).
func (s *Server) refuse(req *sip.Request, tx sip.ServerTransaction, v verdict) {
	if v.status == 401 {
		s.metrics.challenges.Inc()
		res := s.response(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", v.challenge))
		s.send(tx, res)
		endRefusal(req, tx)
		return
	}
	s.metrics.rejected.WithLabelValues(v.reason).Inc()
	s.rejectLog.Log(slog.LevelWarn, "sip request refused", "method", string(req.Method),
		"source", req.MessageData.Source(), "transport", req.Transport(), "reason", v.reason, "detail", v.detail)
	s.respond(req, tx, 403, "Forbidden")
	endRefusal(req, tx)
}

// endRefusal ends the transaction of a refused request at once. Over UDP
// an INVITE's non-2xx answer is otherwise resent until Timer H, about ten
// datagrams for one: a reflector for whoever forges the source address.
// A real caller ACKs the one answer (the ACK matches nothing and is
// dropped), or resends its INVITE if that answer was lost and gets it
// again.
func endRefusal(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsInvite() && strings.EqualFold(req.Transport(), "UDP") {
		tx.Terminate()
	}
}

// onOptions answers trunk health checks with what we accept.
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := s.response(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	s.send(tx, res)
}

// onInvite admits a new call: bounds, capacity, 100 Trying, the dialog,
// then the Handler in its own goroutine. It returns only once the
// INVITE's final response is settled: sipgo ends the server transaction
// when this handler returns, and the 200 OK must be retransmitted on it
// until the ACK.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction, trunk string) {
	if status, reason, warning := checkInvite(req); status != 0 {
		s.metrics.rejected.WithLabelValues(rejectMalformed).Inc()
		res := s.response(req, status, reason, nil)
		if warning != "" {
			res.AppendHeader(sip.NewHeader("Warning", warning))
		}
		if status == 415 || status == 406 {
			res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		}
		s.send(tx, res)
		return
	}
	c, err := s.newCall(req, tx, trunk)
	if err != nil { // no From tag, To or Call-ID: sipgo cannot make a dialog of it
		s.metrics.rejected.WithLabelValues(rejectMalformed).Inc()
		s.rejectLog.Log(slog.LevelWarn, "sip invite refused", "call_id", callID(req), "err", err)
		s.respond(req, tx, 400, "Bad Request")
		return
	}
	if ok, draining := s.reserve(c); !ok {
		reason := rejectCapacity
		s.metrics.rejected.WithLabelValues(reason).Inc()
		s.rejectLog.Log(slog.LevelWarn, "sip call refused", "call_id", c.ID(), "reason", reason, "draining", draining)
		res := s.response(req, 503, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "5"))
		s.send(tx, res)
		// A flood of INVITEs past capacity keeps no transaction resending
		// its 503: what it holds is bounded by max_calls.
		endRefusal(req, tx)
		c.end(ErrRejected)
		return
	}
	s.send(tx, s.response(req, 100, "Trying", nil))
	s.register(c.key, c)
	go s.runCall(c)
	select {
	case <-c.final:
	case <-tx.Done():
		if c.wasOKSent() {
			// The transaction's Timer L and our wait for the ACK both
			// run 64*T1 from the 200 OK; whichever ends first, the cause
			// is the missing ACK.
			c.end(ErrNoACK)
			return
		}
		c.end(errors.Join(errors.New("invite transaction ended before a final response"), tx.Err()))
	}
}

// checkInvite applies the bounds an INVITE must meet before it becomes a
// call: status 0 when it does.
func checkInvite(req *sip.Request) (status int, reason, warning string) {
	body := req.Body()
	switch {
	case req.Contact() == nil:
		return 400, "Missing Contact", ""
	case req.Contact().Address.Headers != nil && req.Contact().Address.Headers.Length() > 0:
		// RFC 3261 §19.1.1, Table 1: a dialog's Contact carries no
		// headers. It becomes the remote target of our BYE and re-INVITE,
		// which must not take headers the caller chose.
		return 400, "Headers Not Allowed In Contact", ""
	case len(body) > MaxSDPSize:
		e := sdpError(400, warnMisc, ErrSDPTooLarge, "body exceeds bound")
		return 400, "SDP Too Large", e.Warning
	case len(body) > 0 && !isSDP(req):
		return 415, "Unsupported Media Type", ""
	case !acceptsSDP(req):
		e := sdpError(406, warnMisc, errAcceptNoSDP, "our answer is application/sdp")
		return 406, "Not Acceptable", e.Warning
	}
	return 0, "", ""
}

func isSDP(m interface{ GetHeader(string) sip.Header }) bool {
	h := m.GetHeader("Content-Type")
	if h == nil {
		return false
	}
	mt, _, _ := strings.Cut(h.Value(), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/sdp")
}

// response builds a response to req with our Server header.
func (s *Server) response(req *sip.Request, status int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(req, status, reason, body)
	// sipgo copies the request's version; we speak SIP/2.0 whatever was
	// asked (a 505 to SIP/7.0 is still a SIP/2.0 response).
	res.SipVersion = "SIP/2.0"
	if s.cfg.UserAgent != "" {
		res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	}
	return res
}

// okSDP is a 200 OK carrying our SDP and Contact.
func (s *Server) okSDP(req *sip.Request, sdp []byte, contact sip.ContactHeader) *sip.Response {
	res := s.response(req, 200, "OK", sdp)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(contact.Clone())
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	return res
}

func (s *Server) respond(req *sip.Request, tx sip.ServerTransaction, status int, reason string) {
	s.send(tx, s.response(req, status, reason, nil))
}

// respondError answers with the status an error carries (SIPStatus) and
// the Warning of an *Error, or 500.
func (s *Server) respondError(req *sip.Request, tx sip.ServerTransaction, err error) error {
	status, warning := 500, ""
	var sc interface{ SIPStatus() int }
	if errors.As(err, &sc) && sc.SIPStatus() >= 300 && sc.SIPStatus() <= 699 {
		status = sc.SIPStatus()
	}
	var se *Error
	if errors.As(err, &se) {
		warning = se.Warning
	}
	res := s.response(req, status, reasonPhrase(status), nil)
	if warning != "" {
		res.AppendHeader(sip.NewHeader("Warning", warning))
	}
	if serr := tx.Respond(res); serr != nil {
		// A transaction that failed on its transport (a 2xx too large for
		// UDP) takes no more responses: send this one statelessly, so the
		// caller still gets a final answer.
		if werr := s.sipSrv.WriteResponse(res); werr != nil {
			return errors.Join(err, serr, werr)
		}
	}
	return err
}

func (s *Server) send(tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond", "status", res.StatusCode, "err", err)
	}
}

func callID(m interface{ CallID() *sip.CallIDHeader }) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

var reasons = map[int]string{
	400: "Bad Request", 403: "Forbidden", 405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout",
	415: "Unsupported Media Type", 480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
	486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here", 489: "Bad Event",
	513: "Message Too Large",
	491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented", 503: "Service Unavailable", 603: "Decline",
}

func reasonPhrase(status int) string {
	if r, ok := reasons[status]; ok {
		return r
	}
	return "Error"
}

// withinLimits applies the per-source limits (Config.Limits) before any
// other work: a refused request gets 503 with Retry-After and its
// transaction ends at once (a forged source gets no retransmissions), one
// past the refusals gets nothing. ACKs pass: they create nothing, and an
// answered call needs its ACK.
func (s *Server) withinLimits(req *sip.Request, tx sip.ServerTransaction) bool {
	if s.limits == nil || req.IsAck() {
		return true
	}
	kind := limitKind(req)
	switch s.limits.check(sourceAddr(req).Addr(), kind) {
	case limitRefuse:
		s.metrics.limited.WithLabelValues(limitKindNames[kind], "refused").Inc()
		s.rejectLog.Log(slog.LevelWarn, "sip request over its source's rate", "method", string(req.Method),
			"source", req.MessageData.Source())
		res := s.response(req, 503, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "1"))
		s.send(tx, res)
		tx.Terminate()
		return false
	case limitDrop:
		s.metrics.limited.WithLabelValues(limitKindNames[kind], "dropped").Inc()
		tx.Terminate()
		return false
	}
	return true
}
