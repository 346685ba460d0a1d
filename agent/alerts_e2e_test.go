package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// alertmanager is a real Alertmanager (Debian's prometheus-alertmanager) on
// a free loopback port.
type alertmanager struct {
	url string
	cmd *exec.Cmd
}

func startAlertmanager(t *testing.T) *alertmanager {
	t.Helper()
	testutil.Slow(t, "real Alertmanager")
	bin := testutil.Tool(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "am.yml")
	if err := os.WriteFile(cfg, []byte("route: {receiver: none, group_wait: 100ms}\nreceivers: [{name: none}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := agenttest.FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+dir, "--web.listen-address="+addr, "--cluster.listen-address=", "--alerts.gc-interval=1s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	am := &alertmanager{url: "http://" + addr, cmd: cmd}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := http.Get(am.url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return am
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("Alertmanager not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// active returns the active alerts named alertname.
func (am *alertmanager) active(t *testing.T, alertname string) []amAlert {
	resp, err := http.Get(am.url + "/api/v2/alerts?active=true&filter=alertname%3D%22" + alertname + "%22")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out []amAlert
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func TestAgentSendsAlertsToAlertmanager(t *testing.T) {
	am := startAlertmanager(t)
	e := newEnv(t)
	e.setScript(`status: CRITICAL
summary: WHMCS refused the API call
diagnoses:
  - code: whmcs.invalid_ip
    severity: critical
    message: WHMCS does not allow API calls from 203.0.113.7.
    remediation: [Add 203.0.113.7 under API IP Access Restriction., Or use an access key.]
    details: {ip: 203.0.113.7}
`)
	e.WriteConfig(fmt.Sprintf(`alerting:
  alertmanagers: [{url: %q}]
  resend_interval: 1s
  external_labels: {site: pbx1}
checks:
  - name: whmcs_auth
    plugin: scripted
    schedule: "@every 1s"
    alert: {labels: {team: billing}}
    config: {script_file: %s}
`, am.url, e.script))
	d := e.start()

	var got []amAlert
	d.WaitFor("the alert in Alertmanager", func() bool { got = am.active(t, "PbxwatchCheckFailing"); return len(got) == 1 })
	l, a := got[0].Labels, got[0].Annotations
	want := map[string]string{"check": "whmcs_auth", "plugin": "scripted", "code": "whmcs.invalid_ip", "severity": "critical", "team": "billing", "site": "pbx1"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("label %s=%q, want %q (all: %v)", k, l[k], v, l)
		}
	}
	if l["instance"] == "" {
		t.Errorf("no instance label: %v", l)
	}
	if !strings.Contains(a["remediation"], "1. Add 203.0.113.7") || !strings.Contains(a["remediation"], "2. Or use an access key.") || a["summary"] == "" {
		t.Errorf("annotations %v", a)
	}
	body, _ := d.Fetch("/metrics")
	if !strings.Contains(body, "pbxwatch_notifications_sent_total{") {
		t.Errorf("notification metrics missing")
	}

	// Fixed: the alert resolves.
	e.setScript("status: OK\nsummary: fine\n")
	d.WaitFor("the alert to resolve", func() bool { return len(am.active(t, "PbxwatchCheckFailing")) == 0 })
}
