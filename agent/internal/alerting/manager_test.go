package alerting

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pbxwatch/pbxwatch/sdk"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var whmcs = CheckInfo{Name: "whmcs_auth", Plugin: "whmcs", Alert: CheckAlert{Labels: map[string]string{"team": "billing"}}}

func newTestManager(t *testing.T, cfg Config, dir string) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(cfg, dir, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	m.hostname = "pbx1.example"
	m.now = func() time.Time { return t0 }
	return m, reg
}

func critical(code, msg string, steps ...string) *sdk.Result {
	r := &sdk.Result{Summary: msg}
	r.Diagnose(sdk.Diagnosis{Code: code, Severity: sdk.SeverityCritical, Message: msg, Remediation: steps,
		Details: map[string]string{"seen_ip": "203.0.113.7"}})
	return r
}

func ok() *sdk.Result { return &sdk.Result{Status: sdk.StatusOK, Summary: "fine"} }

// byName indexes due alerts by "alertname/code-or-pattern".
func byName(as []postableAlert) map[string]postableAlert {
	out := map[string]postableAlert{}
	for _, a := range as {
		out[a.Labels["alertname"]+"/"+a.Labels["code"]+a.Labels["pattern"]] = a
	}
	return out
}

func TestFailingDiagnosisFiresWithLabelsAndAnnotations(t *testing.T) {
	m, reg := newTestManager(t, Config{ExternalLabels: map[string]string{"site": "pbx1"}}, "")
	m.Observe(whmcs, critical("whmcs.invalid_ip", "WHMCS refused the API call from 203.0.113.7.\nSecond line.",
		"Log in to WHMCS as admin.", "Add 203.0.113.7 to API IP Access Restriction."), t0)

	due := m.due(t0)
	if len(due) != 1 {
		t.Fatalf("want 1 alert due, got %d: %+v", len(due), due)
	}
	a := due[0]
	want := map[string]string{
		"alertname": "PbxwatchCheckFailing", "check": "whmcs_auth", "plugin": "whmcs", "code": "whmcs.invalid_ip",
		"severity": "critical", "instance": "pbx1.example", "team": "billing", "site": "pbx1",
	}
	if len(a.Labels) != len(want) {
		t.Errorf("labels = %v, want %v", a.Labels, want)
	}
	for k, v := range want {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if got := a.Annotations["summary"]; got != "whmcs_auth: WHMCS refused the API call from 203.0.113.7." {
		t.Errorf("summary = %q", got)
	}
	if got := a.Annotations["remediation"]; got != "1. Log in to WHMCS as admin.\n2. Add 203.0.113.7 to API IP Access Restriction." {
		t.Errorf("remediation = %q", got)
	}
	if d := a.Annotations["description"]; !strings.Contains(d, "Second line.") || !strings.Contains(d, "seen_ip: 203.0.113.7") {
		t.Errorf("description lacks message or details: %q", d)
	}
	if !a.StartsAt.Equal(t0) || !a.EndsAt.Equal(t0.Add(4*DefaultResendInterval)) {
		t.Errorf("startsAt %v endsAt %v, want %v and +4m", a.StartsAt, a.EndsAt, t0)
	}
	if got := testutil.ToFloat64(m.metrics.alerts.WithLabelValues("firing")); got != 1 {
		t.Errorf("pbxwatch_alerts{state=firing} = %v", got)
	}
	if n, err := testutil.GatherAndCount(reg, "pbxwatch_alerts"); err != nil || n != 3 {
		t.Errorf("pbxwatch_alerts series = %d, %v; want 3 (one per state)", n, err)
	}
}

func TestCodeChangeResolvesOldAndFiresNew(t *testing.T) {
	m, _ := newTestManager(t, Config{ResendInterval: time.Hour}, "") // no resends in the way
	m.Observe(whmcs, critical("whmcs.invalid_ip", "ip"), t0)
	m.due(t0)
	t1 := t0.Add(time.Minute)
	m.Observe(whmcs, critical("whmcs.invalid_secret", "secret"), t1)
	due := byName(m.due(t1))
	old, ok1 := due["PbxwatchCheckFailing/whmcs.invalid_ip"]
	nu, ok2 := due["PbxwatchCheckFailing/whmcs.invalid_secret"]
	if !ok1 || !ok2 || len(due) != 2 {
		t.Fatalf("want old resolved and new firing, got %v", due)
	}
	if !old.EndsAt.Equal(t1) || !old.StartsAt.Equal(t0) {
		t.Errorf("resolved alert: startsAt %v endsAt %v, want %v and %v", old.StartsAt, old.EndsAt, t0, t1)
	}
	if !nu.StartsAt.Equal(t1) || !nu.EndsAt.After(t1) {
		t.Errorf("new alert: startsAt %v endsAt %v", nu.StartsAt, nu.EndsAt)
	}
	// Fixed: the remaining one resolves.
	t2 := t1.Add(time.Minute)
	m.Observe(whmcs, ok(), t2)
	due = byName(m.due(t2))
	if a, ok := due["PbxwatchCheckFailing/whmcs.invalid_secret"]; !ok || !a.EndsAt.Equal(t2) || len(due) != 1 {
		t.Fatalf("want invalid_secret resolved at %v, got %v", t2, due)
	}
}

func TestForKeepsAlertPendingUntilItElapses(t *testing.T) {
	m, _ := newTestManager(t, Config{}, "")
	slow := whmcs
	slow.Alert.For = 2 * time.Minute
	m.Observe(slow, critical("whmcs.invalid_ip", "ip"), t0)
	m.Observe(slow, critical("whmcs.invalid_ip", "ip"), t0.Add(time.Minute))
	if due := m.due(t0.Add(time.Minute)); len(due) != 0 {
		t.Fatalf("pending alert sent: %v", due)
	}
	if got := testutil.ToFloat64(m.metrics.alerts.WithLabelValues("pending")); got != 1 {
		t.Errorf("pending = %v", got)
	}
	t2 := t0.Add(2 * time.Minute)
	m.Observe(slow, critical("whmcs.invalid_ip", "ip"), t2)
	due := m.due(t2)
	if len(due) != 1 || !due[0].StartsAt.Equal(t2) {
		t.Fatalf("want the alert firing from %v, got %v", t2, due)
	}

	// A failure that clears before `for` is never sent, not even resolved.
	m.Observe(slow, critical("whmcs.invalid_secret", "secret"), t2)
	m.Observe(slow, critical("whmcs.invalid_ip", "ip"), t2.Add(time.Minute))
	for _, a := range m.due(t2.Add(time.Hour)) {
		if a.Labels["code"] == "whmcs.invalid_secret" {
			t.Errorf("pending-then-cleared alert was sent: %v", a)
		}
	}
}

func TestUndiagnosedFailureGetsCode(t *testing.T) {
	m, _ := newTestManager(t, Config{}, "")
	m.Observe(whmcs, &sdk.Result{Status: sdk.StatusUnknown, Summary: "no idea"}, t0)
	due := m.due(t0)
	if len(due) != 1 || due[0].Labels["code"] != sdk.CodeUndiagnosed || due[0].Labels["severity"] != "critical" {
		t.Fatalf("want one %s alert, got %v", sdk.CodeUndiagnosed, due)
	}
	if !strings.Contains(due[0].Annotations["description"], "no idea") {
		t.Errorf("description lacks the summary: %q", due[0].Annotations["description"])
	}
	// An info diagnosis alone does not alert.
	m2, _ := newTestManager(t, Config{}, "")
	r := &sdk.Result{}
	r.Diagnose(sdk.Diagnosis{Code: "x.note", Severity: sdk.SeverityInfo, Message: "fyi"})
	m2.Observe(whmcs, r, t0)
	if due := m2.due(t0); len(due) != 0 {
		t.Errorf("info diagnosis alerted: %v", due)
	}
}

func TestAgentCodesLeaveSystemAlertsAlone(t *testing.T) {
	m, _ := newTestManager(t, Config{ResendInterval: time.Hour}, "")
	m.Observe(whmcs, critical("whmcs.invalid_secret", "secret"), t0)
	m.due(t0)

	crashed := &sdk.Result{Status: sdk.StatusUnknown}
	crashed.Diagnoses = []sdk.Diagnosis{{Code: sdk.CodePluginCrashed, Severity: sdk.SeverityCritical, Message: "crashed"}}
	t1 := t0.Add(time.Minute)
	m.Observe(whmcs, crashed, t1)
	due := byName(m.due(t1))
	if _, ok := due["PbxwatchCheckFailing/pbxwatch.plugin_crashed"]; !ok || len(due) != 1 {
		t.Fatalf("want only plugin_crashed to fire (invalid_secret unchanged), got %v", due)
	}

	stopping := &sdk.Result{Status: sdk.StatusUnknown}
	stopping.Diagnoses = []sdk.Diagnosis{{Code: sdk.CodeAgentStopping, Severity: sdk.SeverityCritical}}
	m.Observe(whmcs, stopping, t1.Add(time.Second))
	if due := m.due(t1.Add(time.Second)); len(due) != 0 {
		t.Fatalf("agent stopping changed alerts: %v", due)
	}

	t2 := t1.Add(time.Minute)
	m.Observe(whmcs, critical("whmcs.invalid_secret", "secret"), t2)
	due = byName(m.due(t2))
	if a, ok := due["PbxwatchCheckFailing/pbxwatch.plugin_crashed"]; !ok || !a.EndsAt.Equal(t2) || len(due) != 1 {
		t.Fatalf("want plugin_crashed resolved and invalid_secret not re-sent yet, got %v", due)
	}
	if a := due["PbxwatchCheckFailing/whmcs.invalid_secret"]; !a.StartsAt.IsZero() {
		t.Fatalf("invalid_secret re-sent early: %v", a)
	}
}

func TestResendAndResolvedRetention(t *testing.T) {
	r := 30 * time.Second
	m, _ := newTestManager(t, Config{ResendInterval: r}, "")
	m.Observe(whmcs, critical("whmcs.invalid_ip", "ip"), t0)
	if due := m.due(t0); len(due) != 1 || !due[0].EndsAt.Equal(t0.Add(4*r)) {
		t.Fatalf("first send: %v", due)
	}
	if due := m.due(t0.Add(r - time.Second)); len(due) != 0 {
		t.Fatalf("re-sent before resend_interval: %v", due)
	}
	if due := m.due(t0.Add(r)); len(due) != 1 || !due[0].EndsAt.Equal(t0.Add(5*r)) || !due[0].StartsAt.Equal(t0) {
		t.Fatalf("resend: %v", due)
	}
	tr := t0.Add(2 * r)
	m.Observe(whmcs, ok(), tr)
	if due := m.due(tr); len(due) != 1 || !due[0].EndsAt.Equal(tr) {
		t.Fatalf("resolved must be sent at once with endsAt = resolve time: %v", due)
	}
	if due := m.due(tr.Add(r)); len(due) != 1 || !due[0].EndsAt.Equal(tr) {
		t.Fatalf("resolved must be re-sent: %v", due)
	}
	m.tick(tr.Add(ResolvedRetention))
	if len(m.alerts) != 0 {
		t.Fatalf("resolved alert kept past 15m: %v", m.alerts)
	}
}

func TestLogEventsFireAndResolveAfterQuietPeriod(t *testing.T) {
	m, _ := newTestManager(t, Config{EventQuietPeriod: 5 * time.Minute}, "")
	ev := func(msg string) *sdk.Result {
		return &sdk.Result{Events: []sdk.Event{{Name: "sip_auth_failed", Severity: sdk.SeverityWarning, Message: msg}}}
	}
	m.Observe(whmcs, ev("Registration from 'sip:100@198.51.100.2' failed"), t0)
	due := m.due(t0)
	if len(due) != 1 {
		t.Fatalf("want 1 event alert, got %v", due)
	}
	l := due[0].Labels
	if l["alertname"] != AlertLogEvent || l["pattern"] != "sip_auth_failed" || l["check"] != "whmcs_auth" || l["severity"] != "warning" {
		t.Errorf("labels = %v", l)
	}
	m.Observe(whmcs, ev("again"), t0.Add(4*time.Minute))
	m.tick(t0.Add(8 * time.Minute)) // 4m since the last match
	if a := m.alerts[key(l)]; a == nil || !a.firing() || a.Count != 2 {
		t.Fatalf("event alert should still fire with 2 matches: %+v", a)
	}
	// The status page sees the held event: pattern, count, the latest
	// match, and until when it fires without another match.
	held := FiringLogEvents(m.Held("whmcs_auth"))
	if len(held) != 1 || held[0].LogEvent.Pattern != "sip_auth_failed" || held[0].LogEvent.Count != 2 ||
		held[0].LogEvent.Latest != "again" || !held[0].LogEvent.Until.Equal(t0.Add(9*time.Minute)) {
		t.Fatalf("held log events: %+v", held)
	}
	m.tick(t0.Add(9 * time.Minute))
	if a := m.alerts[key(l)]; a == nil || !a.resolved() || !a.ResolvedAt.Equal(t0.Add(9*time.Minute)) {
		t.Fatalf("event alert should resolve after the quiet period: %+v", a)
	}
	if held := FiringLogEvents(m.Held("whmcs_auth")); len(held) != 0 {
		t.Fatalf("a resolved log event is still held as firing: %+v", held)
	}
	// An OK run without events does not touch it, a new match fires anew.
	m.Observe(whmcs, ev("back"), t0.Add(10*time.Minute))
	if a := m.alerts[key(l)]; !a.firing() || !a.FiredAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("new match should fire a new alert: %+v", a)
	}
}

func TestSetChecksResolvesRemovedAndRelabels(t *testing.T) {
	m, _ := newTestManager(t, Config{}, "")
	other := CheckInfo{Name: "freepbx_trunks", Plugin: "freepbx"}
	m.SetChecks([]CheckInfo{whmcs, other})
	m.Observe(whmcs, critical("whmcs.invalid_ip", "ip"), t0)
	m.Observe(other, critical("freepbx.trunk_down", "down"), t0)
	m.due(t0)

	t1 := t0.Add(time.Minute)
	relabelled := whmcs
	relabelled.Alert = CheckAlert{Severity: "warning", Labels: map[string]string{"team": "ops"}}
	m.now = func() time.Time { return t1 }
	m.SetChecks([]CheckInfo{relabelled})
	due := m.due(t1)
	var resolved, firing []string
	for _, a := range due {
		if a.EndsAt.Equal(t1) {
			resolved = append(resolved, a.Labels["code"]+"/"+a.Labels["team"])
		} else {
			firing = append(firing, a.Labels["code"]+"/"+a.Labels["team"]+"/"+a.Labels["severity"])
		}
	}
	if strings.Join(resolved, ",") != "freepbx.trunk_down/,whmcs.invalid_ip/billing" && strings.Join(resolved, ",") != "whmcs.invalid_ip/billing,freepbx.trunk_down/" {
		t.Errorf("resolved = %v, want the removed check's alert and the old label set", resolved)
	}
	if strings.Join(firing, ",") != "whmcs.invalid_ip/ops/warning" {
		t.Errorf("firing = %v, want the alert under its new labels", firing)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	m, _ := newTestManager(t, Config{}, dir)
	m.Observe(whmcs, critical("whmcs.invalid_ip", "ip"), t0)
	m.Observe(whmcs, critical("whmcs.invalid_secret", "secret"), t0.Add(time.Minute)) // ip resolves
	slow := CheckInfo{Name: "slow", Plugin: "x", Alert: CheckAlert{For: time.Hour}}
	m.Observe(slow, critical("x.bad", "bad"), t0)
	m.due(t0.Add(time.Minute))

	m2, _ := newTestManager(t, Config{}, dir)
	for state, want := range map[string]float64{"firing": 1, "pending": 1, "resolved": 1} {
		if got := testutil.ToFloat64(m2.metrics.alerts.WithLabelValues(state)); got != want {
			t.Errorf("after restart pbxwatch_alerts{state=%q} = %v, want %v", state, got, want)
		}
	}
	due := byName(m2.due(t0.Add(90 * time.Second)))
	sec, ok1 := due["PbxwatchCheckFailing/whmcs.invalid_secret"]
	ip, ok2 := due["PbxwatchCheckFailing/whmcs.invalid_ip"]
	if !ok1 || !ok2 || len(due) != 2 {
		t.Fatalf("after restart want the firing and the resolved alert re-sent, got %v", due)
	}
	if !sec.StartsAt.Equal(t0.Add(time.Minute)) || !sec.EndsAt.After(t0.Add(90*time.Second)) {
		t.Errorf("firing alert lost its startsAt or was resolved: %+v", sec)
	}
	if !ip.EndsAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("resolved alert re-fired: %+v", ip)
	}
	// The pending one keeps its start: it fires an hour after t0, not after the restart.
	m2.Observe(slow, critical("x.bad", "bad"), t0.Add(time.Hour))
	if a := byName(m2.due(t0.Add(time.Hour)))["PbxwatchCheckFailing/x.bad"]; !a.StartsAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("pending alert lost its active time: %+v", a)
	}
}

func TestCorruptStateIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, stateFileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m, err := New(Config{}, dir, slogTo(&logs), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.alerts) != 0 {
		t.Fatalf("alerts from a corrupt file: %v", m.alerts)
	}
	if _, err := os.Stat(filepath.Join(dir, stateFileName+".corrupt")); err != nil {
		t.Errorf("corrupt state not kept aside: %v", err)
	}
	if !strings.Contains(logs.String(), "corrupt") {
		t.Errorf("no log of the corrupt state: %s", logs.String())
	}
}
