package alerting

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	alerts   *prometheus.GaugeVec
	sent     *prometheus.CounterVec
	errors   *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	queueLen *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		alerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pbxwatch_alerts",
			Help: "Alerts the agent holds, by state: pending (waiting out `for`), firing, resolved (still re-sent for 15m).",
		}, []string{"state"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbxwatch_notifications_sent_total",
			Help: "Alerts sent to the Alertmanager (counted per alert, batches carry several).",
		}, []string{"alertmanager"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbxwatch_notifications_errors_total",
			Help: "Alerts whose POST to the Alertmanager failed; they are sent again with the next resend.",
		}, []string{"alertmanager"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbxwatch_notifications_dropped_total",
			Help: "Alerts dropped from the Alertmanager's full queue (oldest first) or left unsent at shutdown.",
		}, []string{"alertmanager"}),
		queueLen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pbxwatch_notification_queue_length",
			Help: "Alerts waiting to be sent to the Alertmanager.",
		}, []string{"alertmanager"}),
	}
	for _, s := range []string{"pending", "firing", "resolved"} {
		m.alerts.WithLabelValues(s)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.alerts, m.sent, m.errors, m.dropped, m.queueLen} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// forget removes a removed Alertmanager's series.
func (m *metrics) forget(url string) {
	m.sent.DeleteLabelValues(url)
	m.errors.DeleteLabelValues(url)
	m.dropped.DeleteLabelValues(url)
	m.queueLen.DeleteLabelValues(url)
}
