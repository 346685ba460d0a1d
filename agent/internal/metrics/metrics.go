// Package metrics holds the agent's own Prometheus metrics and exports the
// metrics plugins return, each under its own name with a `check` label.
package metrics

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/pbxwatch/pbxwatch/agent/internal/truncation"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// Namespace prefixes the agent's own metrics; plugins may not use it.
const Namespace = "pbxwatch"

// Metrics is the agent's registry and the collectors it updates.
type Metrics struct {
	Registry *prometheus.Registry

	status     *prometheus.GaugeVec
	diagnoses  *diagnosisGauge
	lastRun    *prometheus.GaugeVec
	duration   *prometheus.HistogramVec
	runs       *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	restarts   *prometheus.CounterVec
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
	plugins    *pluginCollector

	knownMu sync.Mutex
	known   map[string]bool // checks with series, for Retain
}

// New builds the registry with the Go, process and build-info collectors.
func New(logger *slog.Logger) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "check_status",
			Help: "Status of the check's last run: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios codes).",
		}, []string{"check", "plugin"}),
		diagnoses: newDiagnosisGauge(),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "check_last_run_timestamp_seconds",
			Help: "Unix time the check's last run finished.",
		}, []string{"check", "plugin"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "check_duration_seconds",
			Help:    "Duration of check runs, including the round trip to the plugin.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"check", "plugin"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "check_runs_total",
			Help: "Check runs by result (ok, warning, critical, unknown).",
		}, []string{"check", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "check_skipped_total",
			Help: "Scheduled runs skipped because the previous run of the check was still in progress.",
		}, []string{"check"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "plugin_restarts_total",
			Help: "Times a check's plugin process was started again after it exited, crashed or was killed.",
		}, []string{"check"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "config_last_reload_successful",
			Help: "Whether the last configuration load or reload succeeded (1) or not (0).",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load or reload.",
		}),
		plugins: newPluginCollector(logger),
		known:   map[string]bool{},
	}
	reg.MustRegister(truncation.Total)
	reg.MustRegister(
		m.status, m.diagnoses.vec, m.lastRun, m.duration, m.runs, m.skipped, m.restarts, m.reloadOK, m.reloadTime, m.plugins,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector(Namespace),
	)
	return m
}

// ObserveRun records one finished run of a check.
func (m *Metrics) ObserveRun(check, plugin string, res *sdk.Result, finished time.Time, took time.Duration) {
	m.status.WithLabelValues(check, plugin).Set(float64(res.Status))
	m.diagnoses.set(check, plugin, res.Diagnoses)
	m.lastRun.WithLabelValues(check, plugin).Set(float64(finished.UnixNano()) / 1e9)
	m.duration.WithLabelValues(check, plugin).Observe(took.Seconds())
	m.runs.WithLabelValues(check, strings.ToLower(res.Status.String())).Inc()
	if len(res.Metrics) > 0 || res.Status != sdk.StatusUnknown {
		// A run the plugin could not complete (timeout, crash) returns no
		// metrics; keep the last ones rather than blank the check's series.
		m.plugins.set(check, res.Metrics)
	}
}

// InitCheck makes a check's series exist from start, so that rate() and
// absent() work before its first skip or restart.
func (m *Metrics) InitCheck(check string) {
	m.knownMu.Lock()
	m.known[check] = true
	m.knownMu.Unlock()
	for _, r := range []string{"ok", "warning", "critical", "unknown"} {
		m.runs.WithLabelValues(check, r)
	}
	m.skipped.WithLabelValues(check)
	m.restarts.WithLabelValues(check)
}

// Skipped counts a tick skipped because the previous run was still going.
func (m *Metrics) Skipped(check string) { m.skipped.WithLabelValues(check).Inc() }

// Restarted counts a plugin restart.
func (m *Metrics) Restarted(check string) { m.restarts.WithLabelValues(check).Inc() }

// ConfigLoaded records the outcome of a (re)load.
func (m *Metrics) ConfigLoaded(ok bool) {
	if ok {
		m.reloadOK.Set(1)
		m.reloadTime.SetToCurrentTime()
		return
	}
	m.reloadOK.Set(0)
}

// Retain drops every series of checks not in keep (after a reload removed
// them), so that removed checks do not linger as stale series.
func (m *Metrics) Retain(keep map[string]string) {
	m.knownMu.Lock()
	defer m.knownMu.Unlock()
	for check := range m.known {
		if _, ok := keep[check]; ok {
			continue
		}
		for _, vec := range []interface {
			DeletePartialMatch(prometheus.Labels) int
		}{m.status, m.diagnoses.vec, m.lastRun, m.duration, m.runs, m.skipped, m.restarts} {
			vec.DeletePartialMatch(prometheus.Labels{"check": check})
		}
		m.diagnoses.forget(check)
		delete(m.known, check)
	}
	m.plugins.retain(keep)
}
