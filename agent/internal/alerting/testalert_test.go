package alerting

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// The test alert reaches every Alertmanager, each answer is reported in
// config order, and an error answer is quoted bounded and on one line.
func TestSendTestAlertReportsEachAlertmanager(t *testing.T) {
	var got []postableAlert
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
	}))
	defer ok.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad alert\n"+strings.Repeat("x", 5000)+"\x00\xff", http.StatusBadRequest)
	}))
	defer refusing.Close()
	check := CheckInfo{Name: "whmcs_auth", Plugin: "whmcs", Alert: CheckAlert{Severity: "critical", Labels: map[string]string{"team": "billing"},
		Annotations: map[string]string{"dashboard_url": "https://grafana.example/d/pbx"}}}
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	cfg := Config{Alertmanagers: []AlertmanagerConfig{{URL: refusing.URL}, {URL: ok.URL + "/"}}, ExternalLabels: map[string]string{"site": "pbx1"}}
	res, err := SendTestAlert(context.Background(), cfg, TestAlert{Check: &check, ResolveAfter: 2 * time.Minute,
		ExternalURL: "https://pbx1.example.com/pbxwatch/", Hostname: "pbx1.example.com", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].URL != refusing.URL || res[1].URL != ok.URL+"/" {
		t.Fatalf("results not in config order: %+v", res)
	}
	if res[1].Err != nil {
		t.Errorf("the accepting Alertmanager: %v", res[1].Err)
	}
	e := res[0].Err
	if e == nil || !strings.Contains(e.Error(), "400 Bad Request: bad alert x") || len(e.Error()) > maxErrorBody+100 || strings.ContainsAny(e.Error(), "\n\x00") {
		t.Errorf("the refusing Alertmanager's error is not a bounded one-line quote: %v", e)
	}
	if len(got) != 1 {
		t.Fatalf("posted %d alerts, want 1", len(got))
	}
	a := got[0]
	for k, v := range map[string]string{"alertname": AlertTestName, "code": sdk.CodeAlertTest, "check": "whmcs_auth", "plugin": "whmcs",
		"severity": "critical", "team": "billing", "site": "pbx1", "instance": "pbx1.example.com"} {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.Labels["test_id"] == "" || !a.EndsAt.Equal(now.Add(2*time.Minute)) || !a.StartsAt.Equal(now) {
		t.Errorf("test_id %q, startsAt %s, endsAt %s", a.Labels["test_id"], a.StartsAt, a.EndsAt)
	}
	if a.GeneratorURL != "https://pbx1.example.com/pbxwatch/checks/whmcs_auth" {
		t.Errorf("generatorURL %q", a.GeneratorURL)
	}
	if !strings.HasPrefix(a.Annotations["summary"], "TEST from pbxwatch on pbx1.example.com") ||
		a.Annotations["runbook_url"] != DefaultRunbookBaseURL+"#pbxwatch.alert_test" ||
		a.Annotations["dashboard_url"] != "https://grafana.example/d/pbx" ||
		!strings.HasPrefix(a.Annotations["remediation"], "1. Nothing to fix") {
		t.Errorf("annotations %v", a.Annotations)
	}

	if _, err := SendTestAlert(context.Background(), Config{}, TestAlert{}); err == nil || !strings.Contains(err.Error(), "add alerting.alertmanagers") {
		t.Errorf("no Alertmanager: %v", err)
	}
}
