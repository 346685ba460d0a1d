// Package metrics holds the agent's own Prometheus metrics and exports the
// metrics plugins return, each under its own name with a `check` label.
package metrics

import (
	"log/slog"
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

	checks     *checkSeries
	diagnoses  *diagnosisGauge
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
	plugins    *pluginCollector
}

// New builds the registry with the Go, process and build-info collectors.
func New(logger *slog.Logger) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry:  reg,
		checks:    newCheckSeries(),
		diagnoses: newDiagnosisGauge(),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "config_last_reload_successful",
			Help: "Whether the last configuration load or reload succeeded (1) or not (0).",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load or reload.",
		}),
		plugins: newPluginCollector(logger),
	}
	reg.MustRegister(truncation.Total)
	reg.MustRegister(
		m.checks, m.diagnoses.vec, m.reloadOK, m.reloadTime, m.plugins,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector(Namespace),
	)
	return m
}

// ObserveRun records one finished run of a check.
func (m *Metrics) ObserveRun(check, plugin string, res *sdk.Result, finished time.Time, took time.Duration) {
	m.checks.observe(check, plugin, runResult(res.Status), float64(res.Status), float64(finished.UnixNano())/1e9, took.Seconds())
	m.diagnoses.set(check, plugin, res.Diagnoses)
	if len(res.Metrics) > 0 || res.Status != sdk.StatusUnknown {
		// A run the plugin could not complete (timeout, crash) returns no
		// metrics; keep the last ones rather than blank the check's series.
		m.plugins.set(check, res.Metrics)
	}
}

// InitCheck makes a check's series exist from start, so that rate() and
// absent() work before its first skip or restart.
func (m *Metrics) InitCheck(check string) { m.checks.init(check) }

// runResult is the index in runResults of the result label of a run that
// ended with status s (as Status.String says it, lower case).
func runResult(s sdk.Status) int {
	switch s {
	case sdk.StatusOK:
		return 0
	case sdk.StatusWarning:
		return 1
	case sdk.StatusCritical:
		return 2
	default:
		return 3
	}
}

// Skipped counts a tick skipped because the previous run was still going.
func (m *Metrics) Skipped(check string) { m.checks.skip(check) }

// Restarted counts a plugin restart.
func (m *Metrics) Restarted(check string) { m.checks.restart(check) }

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
	for _, check := range m.checks.names() {
		if _, ok := keep[check]; ok {
			continue
		}
		m.checks.forget(check)
		m.diagnoses.vec.DeletePartialMatch(prometheus.Labels{"check": check})
		m.diagnoses.forget(check)
	}
	m.plugins.retain(keep)
}
