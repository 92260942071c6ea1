package sip

import "github.com/prometheus/client_golang/prometheus"

// Reasons a request is refused before it becomes a call, the values of
// switchboard_sip_rejected_total's reason label.
const (
	rejectACL            = "acl"              // source not in any trunk's Allow and no trunk takes digest auth
	rejectAuth           = "auth"             // Authorization present but wrong: bad nonce, user, realm or response
	rejectCapacity       = "capacity"         // MaxCalls reached (503)
	rejectInDialogSource = "in_dialog_source" // a request of a call's dialog from outside its trunk
	rejectMalformed      = "malformed"        // unparsable datagram, or a request we answer 400/415/416/413/505
	rejectExtension      = "extension"        // Require of an extension we do not support (420)
)

// Results of an admitted INVITE, the values of switchboard_sip_calls_total's
// result label.
const (
	resultAnswered = "answered" // 200 OK sent and ACKed
	resultRejected = "rejected" // we answered >= 300 (Reject, failed negotiation, handler gave up)
	resultCanceled = "canceled" // CANCEL (or early BYE) before we answered
	resultFailed   = "failed"   // 200 OK sent but never ACKed, or the server shut down first
)

// metrics are the SIP edge's Prometheus series. They live on the Server so
// tests get their own registry.
type metrics struct {
	rejected   *prometheus.CounterVec
	challenges prometheus.Counter
	calls      *prometheus.CounterVec
	active     prometheus.Gauge
	refers     *prometheus.CounterVec
	dials      *prometheus.CounterVec
	limited    *prometheus.CounterVec
	tcpClosed  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_rejected_total",
			Help: "SIP requests refused before becoming a call, by reason (acl, auth, capacity, malformed).",
		}, []string{"reason"}),
		challenges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_sip_auth_challenges_total",
			Help: "401 digest challenges sent to sources outside every trunk's Allow list.",
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_calls_total",
			Help: "Admitted inbound calls by outcome (answered, rejected, canceled, failed).",
		}, []string{"result"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_sip_active_calls",
			Help: "Inbound calls currently admitted (ringing or up).",
		}),
		refers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_refers_total",
			Help: "REFER transfers by result (accepted, rejected = REFER answered >= 300, failed = NOTIFY sipfrag >= 300, error = timeout or transport).",
		}, []string{"result"}),
		dials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_dials_total",
			Help: "Outbound INVITEs by result (answered, rejected, timeout, auth_failed = credentials refused or missing, error).",
		}, []string{"result"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_limited_total",
			Help: "Requests over their source's rate, by method (invite, register, options, other) and action (refused = 503, dropped = no answer).",
		}, []string{"method", "action"}),
		tcpClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_tcp_closed_total",
			Help: "TCP and TLS connections closed by the edge's guards, by reason (per_source = over the source's bound, first_message = no request head in time, idle).",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.rejected, m.challenges, m.calls, m.active, m.refers, m.dials, m.limited, m.tcpClosed} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
