package alerting

import (
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

var logCheck = CheckInfo{Name: "freepbx_log", Plugin: "logtail"}

// logRun is a logtail-like run: one logtail.pattern_matched diagnosis per
// pattern, and `lines` events for each pattern that sends its lines.
func logRun(lines map[string]int, withEvents map[string]bool) *sdk.Result {
	r := &sdk.Result{Summary: "log read"}
	for p, n := range lines {
		sev := sdk.SeverityWarning
		if p == "sql_error" {
			sev = sdk.SeverityCritical
		}
		r.Diagnose(sdk.Diagnosis{Code: "logtail.pattern_matched", Severity: sev, Message: p + " matched",
			Details: map[string]string{"pattern": p, "count": "1", "file": "/var/log/asterisk/freepbx.log"}})
		for i := 0; withEvents[p] && i < n; i++ {
			r.Events = append(r.Events, sdk.Event{Name: p, Severity: sev, Message: "line"})
		}
	}
	return r
}

// TestLogMatchesAreOneEventAlertPerPatternAndDoNotFlap: two patterns are
// two alerts, a pattern is alerted once (PbxwatchLogEvent, never also
// PbxwatchCheckFailing), and runs without matches in between do not
// resolve it before the quiet period.
func TestLogMatchesAreOneEventAlertPerPatternAndDoNotFlap(t *testing.T) {
	m, _ := newTestManager(t, Config{EventQuietPeriod: 5 * time.Minute}, "")
	m.Observe(logCheck, logRun(map[string]int{"auth_failure": 3, "sql_error": 1}, map[string]bool{"auth_failure": true}), t0)
	due := byName(m.due(t0))
	if len(due) != 2 {
		t.Fatalf("want 2 alerts (one per pattern), got %v", due)
	}
	for _, k := range []string{"PbxwatchLogEvent/auth_failure", "PbxwatchLogEvent/sql_error"} {
		if _, ok := due[k]; !ok {
			t.Errorf("missing %s in %v", k, due)
		}
	}
	if due["PbxwatchLogEvent/sql_error"].Labels["severity"] != "critical" {
		t.Errorf("sql_error labels %v", due["PbxwatchLogEvent/sql_error"].Labels)
	}
	auth := key(due["PbxwatchLogEvent/auth_failure"].Labels)
	if a := m.alerts[auth]; a.Count != 3 {
		t.Errorf("auth_failure counted %d matches, want 3 (its lines, not also its diagnosis)", a.Count)
	}
	// Matches come and go between runs: no resolve, no re-fire.
	for i, at := range []time.Duration{10 * time.Second, 20 * time.Second, 2 * time.Minute} {
		m.Observe(logCheck, ok(), t0.Add(at))
		m.tick(t0.Add(at))
		if i == 1 {
			m.Observe(logCheck, logRun(map[string]int{"auth_failure": 1}, map[string]bool{"auth_failure": true}), t0.Add(at))
		}
	}
	for k, a := range m.alerts {
		if !a.firing() || !a.FiredAt.Equal(t0) {
			t.Errorf("%q flapped: %+v", k, a)
		}
	}
	m.tick(t0.Add(20*time.Second + 5*time.Minute))
	if a := m.alerts[auth]; !a.resolved() {
		t.Errorf("auth_failure should resolve 5m after its last match: %+v", a)
	}
}

// TestLogEventFieldAndOldPatternDetailAlertAlike: a diagnosis marked with
// sdk.Diagnosis.LogEvent (no `pattern` detail) is a log event, as one
// marked the old way by a plugin built before the field: each is one
// PbxwatchLogEvent alert for its pattern and no PbxwatchCheckFailing.
func TestLogEventFieldAndOldPatternDetailAlertAlike(t *testing.T) {
	m, _ := newTestManager(t, Config{EventQuietPeriod: 5 * time.Minute}, "")
	r := &sdk.Result{Summary: "log read"}
	r.Diagnose(sdk.Diagnosis{Code: "logtail.pattern_matched", Severity: sdk.SeverityCritical, Message: "sql_error matched",
		LogEvent: "sql_error", Details: map[string]string{"count": "2", "sample": "SQLSTATE[HY000]"}})
	r.Diagnose(sdk.Diagnosis{Code: "logtail.pattern_matched", Severity: sdk.SeverityWarning, Message: "auth_failure matched",
		Details: map[string]string{"pattern": "auth_failure", "count": "1"}})
	m.Observe(logCheck, r, t0)
	due := byName(m.due(t0))
	if len(due) != 2 {
		t.Fatalf("want 2 PbxwatchLogEvent alerts and nothing else, got %v", due)
	}
	for _, k := range []string{"PbxwatchLogEvent/sql_error", "PbxwatchLogEvent/auth_failure"} {
		if _, ok := due[k]; !ok {
			t.Errorf("missing %s in %v", k, due)
		}
	}
	if l := due["PbxwatchLogEvent/sql_error"].Labels; l["pattern"] != "sql_error" || l["severity"] != "critical" {
		t.Errorf("sql_error labels %v", l)
	}
	if d := due["PbxwatchLogEvent/sql_error"].Annotations["description"]; !strings.Contains(d, "sample: SQLSTATE[HY000]") {
		t.Errorf("the diagnosis' evidence is not in the alert: %q", d)
	}
}

// TestKeepFiringForHoldsACauseThatComesAndGoes: with keep_firing_for, a
// check alert stays one firing alert through clean runs shorter than it.
func TestKeepFiringForHoldsACauseThatComesAndGoes(t *testing.T) {
	m, _ := newTestManager(t, Config{}, "")
	c := CheckInfo{Name: "trunk", Plugin: "sip", Alert: CheckAlert{KeepFiringFor: 5 * time.Minute}}
	m.Observe(c, critical("sip.unregistered", "down"), t0)
	m.Observe(c, ok(), t0.Add(time.Minute))
	m.Observe(c, critical("sip.unregistered", "down"), t0.Add(2*time.Minute))
	m.Observe(c, ok(), t0.Add(6*time.Minute))
	if len(m.alerts) != 1 {
		t.Fatalf("%d alerts", len(m.alerts))
	}
	for _, a := range m.alerts {
		if !a.firing() || !a.FiredAt.Equal(t0) {
			t.Fatalf("alert flapped: %+v", a)
		}
	}
	m.Observe(c, ok(), t0.Add(7*time.Minute)) // 5m since last reported
	for _, a := range m.alerts {
		if !a.resolved() || !a.ResolvedAt.Equal(t0.Add(7*time.Minute)) {
			t.Fatalf("alert should resolve once gone for keep_firing_for: %+v", a)
		}
	}
	// Without it, the first clean run resolves (unchanged default).
	m2, _ := newTestManager(t, Config{}, "")
	m2.Observe(whmcs, critical("whmcs.invalid_ip", "x"), t0)
	m2.Observe(whmcs, ok(), t0.Add(time.Second))
	for _, a := range m2.alerts {
		if !a.resolved() {
			t.Fatalf("default keep_firing_for 0 should resolve at once: %+v", a)
		}
	}
}
