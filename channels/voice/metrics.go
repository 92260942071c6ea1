package voice

import (
	"github.com/prometheus/client_golang/prometheus"

	"switchboard/media"
)

// Metrics are the voice channel's counters.
type Metrics struct {
	calls         prometheus.Counter
	mediaTimeouts prometheus.Counter
	utterances    prometheus.Counter
	joined        prometheus.Counter
	sttSeconds    prometheus.Histogram
	transfers     *prometheus.CounterVec
	transferStart *prometheus.HistogramVec
	rtp           *prometheus.CounterVec
	reply         prometheus.Histogram
}

// NewMetrics registers the voice metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_calls_answered_total",
			Help: "Calls the AI answered."}),
		mediaTimeouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_media_ended_total",
			Help: "Calls hung up because media stopped (no RTP within the media timeout)."}),
		utterances: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_utterances_total",
			Help: "Caller utterances recognised as words."}),
		sttSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_voice_stt_seconds",
			Help: "Time from end of speech to transcript.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 10)}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_voice_transfers_total",
			Help: "Phone transfers by method (refer, bridge) and result."}, []string{"method", "result"}),
		transferStart: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_voice_transfer_start_seconds",
			Help:    "Time from the handoff decision (recorded) to the REFER or bridging INVITE written to the network.",
			Buckets: []float64{0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1}}, []string{"method"}),
	}
	m.rtp = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_voice_rtp_packets_total",
		Help: "RTP packets of ended call legs: sent, received, and lost (sequence gaps never filled)."}, []string{"kind"})
	m.joined = prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_utterances_joined_total",
		Help: "Utterances held back and joined to the caller's next one because the caller went on talking (a pause mid-sentence)."})
	m.reply = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_voice_reply_seconds",
		Help: "From the end of the caller's speech (as the VAD heard it) to the first audio of the reply going to " +
			"playout (its first packet leaves at the next 20 ms tick): recognition, the responder and synthesis included.",
		Buckets: prometheus.ExponentialBuckets(0.025, 1.5, 14)})
	reg.MustRegister(m.calls, m.mediaTimeouts, m.utterances, m.sttSeconds, m.transfers, m.transferStart, m.rtp, m.reply, m.joined)
	return m
}

// session adds an ended leg's RTP counts.
func (m *Metrics) session(s *media.Session) {
	st := s.Stats()
	m.rtp.WithLabelValues("sent").Add(float64(st.PacketsSent))
	m.rtp.WithLabelValues("received").Add(float64(st.PacketsReceived))
	m.rtp.WithLabelValues("lost").Add(float64(st.Lost))
}
