package alerting_test

// Integration tests: the Manager against the real Alertmanager.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/sdk"
)

var whmcsCheck = alerting.CheckInfo{Name: "whmcs_auth", Plugin: "whmcs", Alert: alerting.CheckAlert{
	Labels: map[string]string{"team": "billing"}, RunbookURL: "https://wiki.example/whmcs",
}}

func invalidSecret() *sdk.Result {
	r := &sdk.Result{Summary: "WHMCS rejected the API secret"}
	r.Diagnose(sdk.Diagnosis{
		Code: "whmcs.invalid_secret", Severity: sdk.SeverityCritical,
		Message:     "WHMCS answered \"Invalid or missing credentials\" for identifier ab12.",
		Remediation: []string{"Open WHMCS > Setup > Staff > Manage API Credentials.", "Regenerate the secret and put it in the secret file."},
	})
	return r
}

// running is a Manager with its Run loop.
type running struct {
	*alerting.Manager
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

func startManager(t *testing.T, stateDir string, ams ...*server) *running {
	t.Helper()
	cfg := alerting.Config{
		ResendInterval: 500 * time.Millisecond,
		ExternalLabels: map[string]string{"site": "pbx1", "instance": "pbx1.test"},
	}
	for _, am := range ams {
		cfg.Alertmanagers = append(cfg.Alertmanagers, alerting.AlertmanagerConfig{URL: am.url, Timeout: 2 * time.Second})
	}
	reg := prometheus.NewRegistry()
	m, err := alerting.New(cfg, stateDir, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	m.SetChecks([]alerting.CheckInfo{whmcsCheck})
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Manager: m, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() { m.Run(ctx); close(r.done) }()
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.cancel()
	<-r.done
}

func TestAlertmanagerShowsFailingCheckAndItsResolution(t *testing.T) {
	t.Parallel()
	hook := startWebhook(t)
	am := startAlertmanager(t, "alertmanager", hook.url, "")
	m := startManager(t, "", am)

	m.Observe(whmcsCheck, invalidSecret(), time.Now())
	eventually(t, 10*time.Second, "the alert in Alertmanager", func() (bool, string) {
		as := am.alertsWith(t, "code", "whmcs.invalid_secret")
		return len(as) == 1, fmt.Sprint(as)
	})
	a := am.alertsWith(t, "code", "whmcs.invalid_secret")[0]
	wantLabels := map[string]string{
		"alertname": "PbxwatchCheckFailing", "check": "whmcs_auth", "plugin": "whmcs", "code": "whmcs.invalid_secret",
		"severity": "critical", "instance": "pbx1.test", "site": "pbx1", "team": "billing",
	}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels in Alertmanager:\n got %v\nwant %v", a.Labels, wantLabels)
	}
	if a.Annotations["remediation"] != "1. Open WHMCS > Setup > Staff > Manage API Credentials.\n2. Regenerate the secret and put it in the secret file." {
		t.Errorf("remediation annotation = %q", a.Annotations["remediation"])
	}
	if !strings.HasPrefix(a.Annotations["summary"], "whmcs_auth: WHMCS answered") || a.Annotations["runbook_url"] != "https://wiki.example/whmcs" {
		t.Errorf("annotations = %v", a.Annotations)
	}
	if !strings.Contains(a.Annotations["description"], "identifier ab12") {
		t.Errorf("description = %q", a.Annotations["description"])
	}
	if a.Status.State != "active" {
		t.Errorf("state = %q, want active", a.Status.State)
	}
	eventually(t, 10*time.Second, "one firing notification", func() (bool, string) {
		return hook.count("firing", "whmcs.invalid_secret") == 1, hook.String()
	})

	// Fixed: Alertmanager sees it resolved and notifies so.
	m.Observe(whmcsCheck, &sdk.Result{Status: sdk.StatusOK, Summary: "authenticated"}, time.Now())
	eventually(t, 10*time.Second, "the alert resolved in Alertmanager", func() (bool, string) {
		as := am.alertsWith(t, "code", "whmcs.invalid_secret")
		return len(as) == 0, fmt.Sprint(as)
	})
	eventually(t, 10*time.Second, "a resolved notification", func() (bool, string) {
		return hook.count("resolved", "whmcs.invalid_secret") == 1, hook.String()
	})
	if n := hook.count("firing", "whmcs.invalid_secret"); n != 1 {
		t.Errorf("firing notifications = %d, want 1 (resends must not notify again)", n)
	}
	if sent := metricValue(t, m.reg, "pbxwatch_notifications_sent_total", am.url); sent < 2 {
		t.Errorf("pbxwatch_notifications_sent_total = %v, want >= 2", sent)
	}
}

// metricValue reads a pbxwatch_notification* series of one Alertmanager.
func metricValue(t *testing.T, reg *prometheus.Registry, name, url string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == name && l.GetName() == "alertmanager" && l.GetValue() == url {
					return m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{alertmanager=%q}", name, url)
	return 0
}

func TestAlertmanagerBackAfterOutageGetsActiveAlerts(t *testing.T) {
	t.Parallel()
	hook := startWebhook(t)
	am := startAlertmanager(t, "alertmanager", hook.url, "")
	m := startManager(t, "", am)

	am.stop()
	m.Observe(whmcsCheck, invalidSecret(), time.Now())
	eventually(t, 10*time.Second, "send errors while Alertmanager is down", func() (bool, string) {
		v := metricValue(t, m.reg, "pbxwatch_notifications_errors_total", am.url)
		return v >= 2, fmt.Sprint(v)
	})
	am.start() // same port, empty memory
	eventually(t, 10*time.Second, "the still-active alert after the restart", func() (bool, string) {
		as := am.alertsWith(t, "code", "whmcs.invalid_secret")
		return len(as) == 1, fmt.Sprint(as)
	})
	eventually(t, 10*time.Second, "its notification", func() (bool, string) {
		return hook.count("firing", "whmcs.invalid_secret") == 1, hook.String()
	})
}

func TestClusteredAlertmanagersEachReceiveAndNotifyOnce(t *testing.T) {
	t.Parallel()
	hook := startWebhook(t)
	c1 := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c2 := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	am1 := startAlertmanager(t, "alertmanager-1", hook.url, c1, c2)
	am2 := startAlertmanager(t, "alertmanager-2", hook.url, c2, c1)
	for _, am := range []*server{am1, am2} {
		eventually(t, 20*time.Second, am.name+" sees both peers", func() (bool, string) {
			return am.peers(t) == 2, fmt.Sprint(am.peers(t))
		})
	}
	m := startManager(t, "", am1, am2)

	m.Observe(whmcsCheck, invalidSecret(), time.Now())
	for _, am := range []*server{am1, am2} {
		eventually(t, 10*time.Second, "the alert in "+am.name, func() (bool, string) {
			as := am.alertsWith(t, "code", "whmcs.invalid_secret")
			return len(as) == 1, fmt.Sprint(as)
		})
	}
	eventually(t, 10*time.Second, "a firing notification", func() (bool, string) {
		return hook.count("firing", "whmcs.invalid_secret") >= 1, hook.String()
	})
	// The second peer notifies after --cluster.peer-timeout (3s) unless the
	// gossiped notification log says the first already did: wait past it.
	time.Sleep(4 * time.Second)
	if n := hook.count("firing", "whmcs.invalid_secret"); n != 1 {
		t.Fatalf("firing notifications = %d, want exactly 1 from the cluster: %s", n, hook)
	}
}

// peers is the number of cluster members the Alertmanager knows.
func (s *server) peers(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(s.url + "/api/v2/status")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var st struct {
		Cluster struct {
			Peers []any `json:"peers"`
		} `json:"cluster"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0
	}
	return len(st.Cluster.Peers)
}

func TestRestartMidIncidentNeitherDropsNorRefires(t *testing.T) {
	t.Parallel()
	hook := startWebhook(t)
	am := startAlertmanager(t, "alertmanager", hook.url, "")
	state := t.TempDir()

	m1 := startManager(t, state, am)
	m1.Observe(whmcsCheck, invalidSecret(), time.Now())
	var startsAt time.Time
	eventually(t, 10*time.Second, "the alert and its notification", func() (bool, string) {
		as := am.alertsWith(t, "code", "whmcs.invalid_secret")
		if len(as) == 1 {
			startsAt = as[0].StartsAt
		}
		return len(as) == 1 && hook.count("firing", "whmcs.invalid_secret") == 1, fmt.Sprint(as, hook)
	})
	m1.stop()

	// The new agent has not run the check yet, and keeps the alert alive.
	m2 := startManager(t, state, am)
	time.Sleep(3 * time.Second) // > 4 × resend_interval: it would have expired without resends
	as := am.alertsWith(t, "code", "whmcs.invalid_secret")
	if len(as) != 1 || !as[0].StartsAt.Equal(startsAt) {
		t.Fatalf("after a restart the alert should still be active with startsAt %v, got %v", startsAt, as)
	}
	if n := hook.count("firing", "whmcs.invalid_secret") + hook.count("resolved", "whmcs.invalid_secret"); n != 1 {
		t.Fatalf("the restart caused notifications: %s", hook)
	}

	// Resolved, then restarted: it stays resolved and never fires again.
	m2.Observe(whmcsCheck, &sdk.Result{Status: sdk.StatusOK}, time.Now())
	eventually(t, 10*time.Second, "the resolved notification", func() (bool, string) {
		return hook.count("resolved", "whmcs.invalid_secret") == 1, hook.String()
	})
	m2.stop()
	startManager(t, state, am)
	time.Sleep(2 * time.Second)
	if as := am.alertsWith(t, "code", "whmcs.invalid_secret"); len(as) != 0 {
		t.Fatalf("a resolved alert fired again after a restart: %v", as)
	}
	if n := hook.count("firing", "whmcs.invalid_secret"); n != 1 {
		t.Fatalf("firing notifications = %d after the second restart, want 1: %s", n, hook)
	}
}
