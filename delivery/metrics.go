package delivery

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/store"
)

// metrics are the outbox's gauges and the worker's counts.
type metrics struct {
	depth      prometheus.Gauge
	oldestAge  prometheus.Gauge
	deliveries *prometheus.CounterVec
}

// The results counted in switchboard_deliveries_total.
const (
	resultDelivered = "delivered"
	resultRetry     = "retry"
	resultGivenUp   = "given_up"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		depth: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchboard_outbox_depth",
			Help: "Outbox items still to deliver (neither delivered nor given up), as of the last poll."}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchboard_outbox_oldest_age_seconds",
			Help: "Age of the oldest outbox item still to deliver, as of the last poll; 0 when there is none."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_deliveries_total",
			Help: "Delivery attempts by channel kind and result: delivered, retry (failed, tried again later) or given_up."},
			[]string{"channel", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.depth, m.oldestAge, m.deliveries)
	}
	return m
}

// outbox sets the gauges from stats read at now.
func (m *metrics) outbox(st store.OutboxStats, now time.Time) {
	m.depth.Set(float64(st.Depth))
	m.oldestAge.Set(oldestAge(st, now).Seconds())
}

func oldestAge(st store.OutboxStats, now time.Time) time.Duration {
	if st.Oldest.IsZero() {
		return 0
	}
	return max(now.Sub(st.Oldest), 0)
}
