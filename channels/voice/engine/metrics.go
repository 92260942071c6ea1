package engine

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the call engine's counters, whatever the line.
type Metrics struct {
	calls      prometheus.Counter
	utterances prometheus.Counter
	joined     prometheus.Counter
	sttSeconds prometheus.Histogram
	transfers  *prometheus.CounterVec
	reply      prometheus.Histogram
}

// NewMetrics registers the engine's metrics with reg. Their names keep the
// voice channel's prefix, which dashboards already use.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_calls_answered_total",
			Help: "Calls the AI answered."}),
		utterances: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_utterances_total",
			Help: "Caller utterances recognised as words."}),
		joined: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_voice_utterances_joined_total",
			Help: "Utterances held back and joined to the caller's next one because the caller went on talking (a pause mid-sentence)."}),
		sttSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_voice_stt_seconds",
			Help: "Time from end of speech to transcript.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 10)}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_voice_transfers_total",
			Help: "Phone transfers by method (refer, bridge) and result."}, []string{"method", "result"}),
		reply: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "switchboard_voice_reply_seconds",
			Help: "From the end of the caller's speech (as the VAD heard it) to the first audio of the reply going to " +
				"playout (its first packet leaves at the next 20 ms tick): recognition, the responder and synthesis included.",
			Buckets: prometheus.ExponentialBuckets(0.025, 1.5, 14)}),
	}
	reg.MustRegister(m.calls, m.utterances, m.joined, m.sttSeconds, m.transfers, m.reply)
	return m
}
