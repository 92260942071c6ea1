package voice

import (
	"github.com/prometheus/client_golang/prometheus"

	"switchboard/channels/voice/engine"
	"switchboard/media"
)

// Metrics are the voice channel's counters: the call engine's, and those
// of SIP and RTP.
type Metrics struct {
	engine        *engine.Metrics
	mediaTimeouts prometheus.Counter
	transferStart *prometheus.HistogramVec
	rtp           *prometheus.CounterVec
}

// NewMetrics registers the voice metrics, the engine's included, with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		engine: engine.NewMetrics(reg),
		mediaTimeouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_media_ended_total",
			Help: "Calls hung up because media stopped (no RTP within the media timeout)."}),
		transferStart: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_voice_transfer_start_seconds",
			Help:    "Time from the handoff decision (recorded) to the REFER or bridging INVITE written to the network.",
			Buckets: []float64{0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1}}, []string{"method"}),
		rtp: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_voice_rtp_packets_total",
			Help: "RTP packets of ended call legs: sent, received, and lost (sequence gaps never filled)."}, []string{"kind"}),
	}
	reg.MustRegister(m.mediaTimeouts, m.transferStart, m.rtp)
	return m
}

// session adds an ended leg's RTP counts.
func (m *Metrics) session(s *media.Session) {
	st := s.Stats()
	m.rtp.WithLabelValues("sent").Add(float64(st.PacketsSent))
	m.rtp.WithLabelValues("received").Add(float64(st.PacketsReceived))
	m.rtp.WithLabelValues("lost").Add(float64(st.Lost))
}
