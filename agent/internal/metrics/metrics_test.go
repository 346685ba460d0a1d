package metrics

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pbxwatch/pbxwatch/sdk"
)

func newTest(t *testing.T) (*Metrics, *bytes.Buffer) {
	var logs bytes.Buffer
	return New(slog.New(slog.NewTextHandler(&logs, nil))), &logs
}

func TestTypeConflictAcrossChecksDropsTheLaterOne(t *testing.T) {
	m, logs := newTest(t)
	a := &sdk.Result{}
	a.AddCounter("shared_total", "Shared.", 3, nil)
	b := &sdk.Result{}
	b.AddGauge("shared_total", "Other help.", 1, nil)
	m.ObserveRun("a", "p", a, time.Now(), time.Millisecond)
	m.ObserveRun("b", "p", b, time.Now(), time.Millisecond)
	n, err := testutil.GatherAndCount(m.Registry, "shared_total")
	if err != nil || n != 1 {
		t.Fatalf("count %d err %v", n, err)
	}
	if !strings.Contains(logs.String(), "another check exports this name as a counter") {
		t.Errorf("conflict not logged:\n%s", logs)
	}
}

func TestHelpOfTheFirstExporterWins(t *testing.T) {
	m, _ := newTest(t)
	for _, c := range []struct{ check, help string }{{"a", "First."}, {"b", "Second."}} {
		r := &sdk.Result{}
		r.AddGauge("g", c.help, 1, nil)
		m.ObserveRun(c.check, "p", r, time.Now(), time.Millisecond)
	}
	// Gathering fails on inconsistent help; this must not.
	if n, err := testutil.GatherAndCount(m.Registry, "g"); err != nil || n != 2 {
		t.Fatalf("count %d err %v", n, err)
	}
}

func TestFailedRunKeepsLastPluginMetrics(t *testing.T) {
	m, _ := newTest(t)
	ok := &sdk.Result{}
	ok.AddCounter("lines_total", "Lines.", 10, nil)
	m.ObserveRun("a", "p", ok, time.Now(), time.Millisecond)
	m.ObserveRun("a", "p", &sdk.Result{Status: sdk.StatusUnknown, Summary: "timeout"}, time.Now(), time.Millisecond)
	if n, _ := testutil.GatherAndCount(m.Registry, "lines_total"); n != 1 {
		t.Fatalf("counter vanished after a failed run")
	}
	// A normal run without the metric drops it.
	m.ObserveRun("a", "p", &sdk.Result{Status: sdk.StatusOK}, time.Now(), time.Millisecond)
	if n, _ := testutil.GatherAndCount(m.Registry, "lines_total"); n != 0 {
		t.Fatalf("stale metric kept after a complete run")
	}
}

func TestRetainDeletesRemovedChecks(t *testing.T) {
	m, _ := newTest(t)
	for _, c := range []string{"keep", "drop"} {
		m.InitCheck(c)
		r := &sdk.Result{}
		r.AddGauge("g", "G.", 1, nil)
		m.ObserveRun(c, "p", r, time.Now(), time.Millisecond)
	}
	m.Retain(map[string]string{"keep": "p"})
	body := gatherText(t, m)
	if strings.Contains(body, `check="drop"`) || !strings.Contains(body, `check="keep"`) {
		t.Fatalf("after retain:\n%s", body)
	}
}

func gatherText(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// pbxwatch_check_diagnosis follows the causes of the last run: a new code
// appears, a cleared one goes, another check's stay.
func TestDiagnosisSeriesFollowTheLastRun(t *testing.T) {
	m, _ := newTest(t)
	run := func(check string, codes ...string) {
		r := &sdk.Result{Status: sdk.StatusOK}
		for _, c := range codes {
			r.Diagnose(sdk.Diagnosis{Code: c, Severity: sdk.SeverityCritical, Message: "m"})
		}
		m.ObserveRun(check, "whmcs", r, time.Now(), time.Millisecond)
	}
	want := func(series ...string) {
		t.Helper()
		exp := "# HELP pbxwatch_check_diagnosis 1 for each cause (diagnosis code) the check's last run reported, with its severity; the series goes away when the cause does.\n# TYPE pbxwatch_check_diagnosis gauge\n"
		for _, s := range series {
			exp += s + " 1\n"
		}
		if len(series) == 0 {
			exp = ""
		}
		if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(exp), "pbxwatch_check_diagnosis"); err != nil {
			t.Error(err)
		}
	}
	m.InitCheck("a")
	m.InitCheck("b")
	run("a", "whmcs.invalid_ip", "whmcs.invalid_ip")
	run("b", "whmcs.auth_failed")
	want(`pbxwatch_check_diagnosis{check="a",code="whmcs.invalid_ip",plugin="whmcs",severity="critical"}`,
		`pbxwatch_check_diagnosis{check="b",code="whmcs.auth_failed",plugin="whmcs",severity="critical"}`)
	run("a", "whmcs.permission_denied")
	want(`pbxwatch_check_diagnosis{check="a",code="whmcs.permission_denied",plugin="whmcs",severity="critical"}`,
		`pbxwatch_check_diagnosis{check="b",code="whmcs.auth_failed",plugin="whmcs",severity="critical"}`)
	run("a")
	want(`pbxwatch_check_diagnosis{check="b",code="whmcs.auth_failed",plugin="whmcs",severity="critical"}`)
	m.Retain(map[string]string{"a": "whmcs"})
	want()
}
