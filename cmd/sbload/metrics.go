package main

import (
	"context"
	"fmt"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// gatewayReading is one reading of the gateway's process from its /metrics.
type gatewayReading struct {
	heapStack  float64 // go_memstats_heap_inuse_bytes + go_memstats_stack_inuse_bytes
	rss        float64 // process_resident_memory_bytes
	goroutines float64
	cpuSeconds float64 // process_cpu_seconds_total
	gcs        uint64  // go_gc_duration_seconds count
}

// readGateway scrapes base/metrics.
func readGateway(ctx context.Context, hc *http.Client, base string) (gatewayReading, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return gatewayReading{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return gatewayReading{}, fmt.Errorf("read gateway metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return gatewayReading{}, fmt.Errorf("read gateway metrics: HTTP %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return gatewayReading{}, fmt.Errorf("read gateway metrics: %w", err)
	}
	var r gatewayReading
	var missing []string
	value := func(name string) float64 {
		f := fams[name]
		if f == nil || len(f.Metric) == 0 {
			missing = append(missing, name)
			return 0
		}
		return metricValue(f.Metric[0])
	}
	r.heapStack = value("go_memstats_heap_inuse_bytes") + value("go_memstats_stack_inuse_bytes")
	r.rss = value("process_resident_memory_bytes")
	r.goroutines = value("go_goroutines")
	r.cpuSeconds = value("process_cpu_seconds_total")
	if f := fams["go_gc_duration_seconds"]; f != nil && len(f.Metric) > 0 {
		r.gcs = f.Metric[0].GetSummary().GetSampleCount()
	}
	if len(missing) > 0 {
		return r, fmt.Errorf("read gateway metrics: no %v", missing)
	}
	return r, nil
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}
