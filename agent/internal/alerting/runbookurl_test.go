package alerting

import (
	"testing"
	"time"
)

// Every alert goes out with runbook_url: its code's anchor under
// runbook_base_url, replaced by the check's alert.annotations.runbook_url.
func TestAlertsCarryRunbookURLOverridableByTheCheck(t *testing.T) {
	m, _ := newTestManager(t, Config{}, "")
	other := CheckInfo{Name: "tls", Plugin: "tlscheck"}
	wiki := CheckInfo{Name: "whmcs_wiki", Plugin: "whmcs", Alert: CheckAlert{
		Annotations: map[string]string{"runbook_url": "https://wiki.example/whmcs", "dashboard_url": "https://grafana.example/d/pbx"}}}
	m.SetChecks([]CheckInfo{whmcs, other, wiki})
	m.Observe(whmcs, critical("whmcs.invalid_ip", "WHMCS refused 203.0.113.7", "Add it."), t0)
	m.Observe(other, critical("tlscheck.expired", "expired"), t0)
	m.Observe(wiki, critical("whmcs.invalid_ip", "WHMCS refused 203.0.113.7"), t0)
	got := map[string]map[string]string{}
	for _, a := range m.due(t0) {
		got[a.Labels["check"]] = a.Annotations
	}
	want := map[string]string{
		"whmcs_auth": DefaultRunbookBaseURL + "#whmcs.invalid_ip",
		"tls":        DefaultRunbookBaseURL + "#" + AnchorOtherPlugins,
		"whmcs_wiki": "https://wiki.example/whmcs",
	}
	for check, url := range want {
		if got[check]["runbook_url"] != url {
			t.Errorf("%s: runbook_url = %q, want %q", check, got[check]["runbook_url"], url)
		}
		if got[check]["description"] == "" {
			t.Errorf("%s: no description", check)
		}
	}
	if got["whmcs_wiki"]["dashboard_url"] != "https://grafana.example/d/pbx" {
		t.Errorf("the check's own annotation is missing: %v", got["whmcs_wiki"])
	}

	if err := m.ApplyConfig(Config{RunbookBaseURL: "https://wiki.example/pbxwatch/codes#old"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range m.due(t0.Add(time.Hour)) {
		if a.Labels["check"] == "whmcs_auth" && a.Annotations["runbook_url"] != "https://wiki.example/pbxwatch/codes#whmcs.invalid_ip" {
			t.Errorf("runbook_base_url not applied: %q", a.Annotations["runbook_url"])
		}
	}
}
