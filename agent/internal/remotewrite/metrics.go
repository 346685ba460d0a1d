package remotewrite

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the pbxwatch_remote_write_* series, by receiver URL (without
// credentials or query).
type metrics struct {
	samples     *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	queueBytes  *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbxwatch_remote_write_samples_total",
			Help: "Samples the receiver stored (answered 2xx for).",
		}, []string{"url"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbxwatch_remote_write_samples_dropped_total",
			Help: "Samples dropped without being stored, by reason: too_old (queue.max_age), queue_full (queue.max_bytes), rejected (the receiver answered 4xx), corrupt (a damaged queue record).",
		}, []string{"url", "reason"}),
		queueBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pbxwatch_remote_write_queue_bytes",
			Help: "Bytes of the receiver's disk queue under state_dir/remote_write/.",
		}, []string{"url"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pbxwatch_remote_write_last_success_timestamp_seconds",
			Help: "Unix time the receiver last stored a request.",
		}, []string{"url"}),
	}
	if reg != nil {
		reg.MustRegister(m.samples, m.dropped, m.queueBytes, m.lastSuccess)
	}
	return m
}

// init makes a receiver's series exist from the start (rate() and alerts
// on drops work before the first drop).
func (m *metrics) init(url string) {
	m.samples.WithLabelValues(url)
	for _, r := range Reasons {
		m.dropped.WithLabelValues(url, r)
	}
	m.queueBytes.WithLabelValues(url)
	m.lastSuccess.WithLabelValues(url)
}

// forget drops a receiver removed from the config.
func (m *metrics) forget(url string) {
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.samples, m.dropped, m.queueBytes, m.lastSuccess} {
		v.DeletePartialMatch(prometheus.Labels{"url": url})
	}
}

func (m *metrics) value(c prometheus.Metric) float64 {
	var d dto.Metric
	if c.Write(&d) != nil {
		return 0
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
