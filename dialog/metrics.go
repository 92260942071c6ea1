package dialog

import (
	"github.com/prometheus/client_golang/prometheus"

	"switchboard/handoff"
)

// Metrics are the dialog's Prometheus series: what admins watch to see why
// conversations go to humans and how the AI is doing.
type Metrics struct {
	messages        *prometheus.CounterVec
	aiTurns         *prometheus.CounterVec
	handoffs        *prometheus.CounterVec
	sentiment       *prometheus.HistogramVec
	responderErrors prometheus.Counter
	fallbacks       prometheus.Counter
	interrupted     *prometheus.CounterVec
	summaries       *prometheus.CounterVec
}

// NewMetrics registers the dialog's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_messages_total", Help: "Messages stored, by channel and role.",
		}, []string{"channel", "role"}),
		aiTurns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ai_turns_total", Help: "AI replies, by channel and whether they resolved the question.",
		}, []string{"channel", "resolved"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_handoffs_total",
			Help: "Handoffs to humans (outcome handoff) and follow-ups without a live transfer (outcome follow_up), by channel, trigger, reason, topic and the customer's sentiment.",
		}, []string{"channel", "trigger", "reason", "topic", "sentiment", "outcome"}),
		sentiment: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_handoff_sentiment",
			Help:    "Customer sentiment (-1 angry .. 1 pleased) at the moment of handoff, by trigger.",
			Buckets: []float64{-0.75, -0.5, -0.25, -0.05, 0.05, 0.25, 0.5, 0.75, 1},
		}, []string{"trigger"}),
		responderErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_responder_errors_total", Help: "Responder failures; the turn was stored as unresolved.",
		}),
	}
	m.fallbacks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "switchboard_responder_fallbacks_total",
		Help: "AI turns the fallback (embedded) responder answered because the model provider failed or was too slow.",
	})
	m.interrupted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_ai_replies_interrupted_total",
		Help: "AI replies cut short because the customer talked over them (barge-in), by channel; the model's stream was cancelled.",
	}, []string{"channel"})
	m.summaries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_handoff_summaries_total",
		Help: "Handoff summaries asked of the model, by what went with the handoff: the model's (model) or, when the call failed, the extractive one (extractive).",
	}, []string{"source"})
	reg.MustRegister(m.messages, m.aiTurns, m.handoffs, m.sentiment, m.responderErrors, m.fallbacks, m.interrupted, m.summaries)
	return m
}

func (m *Metrics) observeHandoff(channel string, d handoff.Decision) {
	outcome := "handoff"
	if !d.Handoff {
		outcome = "follow_up"
	}
	m.handoffs.WithLabelValues(channel, string(d.Trigger), string(d.Reason), d.Topic, handoff.SentimentLabel(d.Sentiment), outcome).Inc()
	m.sentiment.WithLabelValues(string(d.Trigger)).Observe(d.Sentiment)
}

// HandoffCounter is one series of switchboard_handoffs_total, for tests and
// dashboards that check a count.
func HandoffCounter(m *Metrics, channel, trigger, reason, topic, sentiment, outcome string) prometheus.Counter {
	return m.handoffs.WithLabelValues(channel, trigger, reason, topic, sentiment, outcome)
}

// InterruptedCounter is one series of switchboard_ai_replies_interrupted_total.
func InterruptedCounter(m *Metrics, channel string) prometheus.Counter {
	return m.interrupted.WithLabelValues(channel)
}
