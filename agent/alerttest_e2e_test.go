package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// `pbxwatch alert test` against two Alertmanagers, one of them down: it
// says which accepted the test alert and which did not, and exits 1; the
// one that is up holds the alert, marked as a test, resolving by itself.
func TestAlertTestNamesTheAlertmanagerThatIsDown(t *testing.T) {
	testutil.Slow(t, "real Alertmanager")
	t.Parallel()
	am := startAlertmanager(t)
	down := "http://" + agenttest.FreeAddr(t) // nothing listens there
	e := newEnv(t)
	write := func(urls ...string) {
		var ams []string
		for _, u := range urls {
			ams = append(ams, fmt.Sprintf("{url: %q, timeout: 2s}", u))
		}
		e.WriteConfig(fmt.Sprintf(`alerting:
  alertmanagers: [%s]
  external_labels: {site: pbx1}
checks:
  - name: whmcs_auth
    plugin: scripted
    alert: {labels: {team: billing}, severity: critical}
    config: {script_file: %s}
`, strings.Join(ams, ", "), e.script))
	}

	write(am.url, down)
	start := time.Now()
	out, errOut, code := e.cli("alert", "test", "--config.file="+e.Config, "--check=whmcs_auth", "--resolve-after=2m", "--web.external-url=https://pbx1.example.com/pbxwatch/")
	if code != 1 {
		t.Errorf("exit %d with one Alertmanager down, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	okLine := regexp.MustCompile(`(?m)^OK +` + regexp.QuoteMeta(am.url) + ` +accepted in [0-9.]+(ms|µs|s)$`)
	failLine := regexp.MustCompile(`(?m)^FAIL +` + regexp.QuoteMeta(down) + ` +not accepted after [0-9.]+(ms|µs|s): .*connection refused`)
	if !okLine.MatchString(out) || !failLine.MatchString(out) || !strings.Contains(out, "1 of 2 Alertmanagers did not accept") {
		t.Errorf("output does not say which Alertmanager accepted and which did not:\n%s", out)
	}

	got := am.active(t, "PbxwatchAlertTest")
	if len(got) != 1 {
		t.Fatalf("the Alertmanager that is up holds %d test alerts, want 1: %+v", len(got), got)
	}
	l, a := got[0].Labels, got[0].Annotations
	for k, v := range map[string]string{"check": "whmcs_auth", "code": "pbxwatch.alert_test", "severity": "critical", "team": "billing", "site": "pbx1"} {
		if l[k] != v {
			t.Errorf("label %s=%q, want %q (the check's route needs its labels): %v", k, l[k], v, l)
		}
	}
	if !strings.HasPrefix(a["summary"], "TEST from pbxwatch") || !strings.HasSuffix(a["runbook_url"], "#pbxwatch.alert_test") || !strings.Contains(a["description"], "resolves by itself") {
		t.Errorf("annotations do not mark it as a test: %v", a)
	}
	ends := amEndsAt(t, am, "PbxwatchAlertTest")
	if d := ends.Sub(start); d < 110*time.Second || d > 130*time.Second {
		t.Errorf("endsAt %s is %s after the test started, want about --resolve-after=2m", ends, d)
	}

	write(am.url)
	out, errOut, code = e.cli("alert", "test", "--config.file="+e.Config)
	if code != 0 || !okLine.MatchString(out) || !strings.Contains(out, "All 1 accepted it") {
		t.Errorf("exit %d with the only Alertmanager up, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	_, errOut, code = e.cli("alert", "test", "--config.file="+e.Config, "--check=nosuch")
	if code != 1 || !strings.Contains(errOut, `no check named "nosuch"`) {
		t.Errorf("unknown check: exit %d, stderr %q", code, errOut)
	}
}

// amEndsAt is the endsAt of the one active alert named alertname.
func amEndsAt(t *testing.T, am *alertmanager, alertname string) time.Time {
	t.Helper()
	resp, err := http.Get(am.url + "/api/v2/alerts?active=true&filter=alertname%3D%22" + alertname + "%22")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []struct {
		EndsAt time.Time `json:"endsAt"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("alerts named %s: %v (%d)", alertname, err, len(alerts))
	}
	return alerts[0].EndsAt
}
