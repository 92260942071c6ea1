package gateway

import "github.com/prometheus/client_golang/prometheus"

// metrics are the gateway's own series; the dialog's are registered by it.
type metrics struct {
	reloads *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_config_reloads_total",
			Help: "Config reloads by result (ok, error).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.reloads)
	return m
}
