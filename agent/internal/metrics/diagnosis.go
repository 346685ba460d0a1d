package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// diagnosisGauge is pbxwatch_check_diagnosis: one series per cause a
// check's last run reported, so that a fleet view (or a dashboard) can
// say which hosts share a cause from PromQL alone. pbxwatch_check_status
// says how bad; this says why.
type diagnosisGauge struct {
	vec *prometheus.GaugeVec

	mu   sync.Mutex
	last map[string][]prometheus.Labels // check -> series set by its last run
}

func newDiagnosisGauge() *diagnosisGauge {
	return &diagnosisGauge{
		vec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "check_diagnosis",
			Help: "1 for each cause (diagnosis code) the check's last run reported, with its severity; the series goes away when the cause does.",
		}, []string{"check", "plugin", "code", "severity"}),
		last: map[string][]prometheus.Labels{},
	}
}

// set replaces the check's series by those of this run's diagnoses. The
// new series are set before the old ones are deleted, so a scrape in
// between never sees a failing check without a cause.
func (g *diagnosisGauge) set(check, plugin string, diags []sdk.Diagnosis) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := make([]prometheus.Labels, 0, len(diags))
	keep := map[string]bool{}
	for _, d := range diags {
		l := prometheus.Labels{"check": check, "plugin": plugin, "code": d.Code, "severity": string(d.Severity)}
		key := plugin + "\xff" + d.Code + "\xff" + string(d.Severity)
		if keep[key] {
			continue // two diagnoses with one code: one series
		}
		keep[key] = true
		g.vec.With(l).Set(1)
		now = append(now, l)
	}
	for _, l := range g.last[check] {
		if !keep[l["plugin"]+"\xff"+l["code"]+"\xff"+l["severity"]] {
			g.vec.Delete(l)
		}
	}
	g.last[check] = now
}

// forget drops what set remembered of a removed check (its series are
// deleted with the check's others).
func (g *diagnosisGauge) forget(check string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.last, check)
}
