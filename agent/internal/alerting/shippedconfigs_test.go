package alerting_test

// Tests of the shipped configs/prometheus and configs/alertmanager files:
// promtool's rule unit tests, amtool's routing, the real Alertmanager's
// inhibition, and the real Prometheus evaluating the rules on the real
// agent's metrics.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

const amtoolBin = "/usr/bin/amtool"

// configsDir is the repository's configs/ directory.
func configsDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "configs")
}

func run(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPrometheusRulesPassPromtoolUnitTests(t *testing.T) {
	t.Parallel()
	testutil.Tool(t, "promtool")
	dir := filepath.Join(configsDir(t), "prometheus")
	run(t, dir, promtoolBin, "check", "config", "prometheus.yml")
	out := run(t, dir, promtoolBin, "test", "rules", "pbxwatch.rules.test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules:\n%s", out)
	}
}

func TestAlertmanagerExampleRoutes(t *testing.T) {
	t.Parallel()
	testutil.Tool(t, "amtool")
	file := filepath.Join(configsDir(t), "alertmanager", "alertmanager.yml")
	run(t, "", amtoolBin, "check-config", file)
	cases := map[string][]string{
		"pager,billing": {"alertname=PbxwatchCheckFailing", "severity=critical", "check=whmcs_auth", "code=whmcs.invalid_secret"},
		"pager,ops":     {"alertname=PbxwatchCheckFailing", "severity=critical", "check=trunks", "code=freepbx.trunk_unreachable"},
		"billing":       {"alertname=PbxwatchCheckFailing", "severity=warning", "check=whmcs_auth"},
		"ops":           {"alertname=PbxwatchLogEvent", "severity=warning", "check=freepbx_log", "pattern=sip_auth_failed"},
	}
	for want, labels := range cases {
		args := append([]string{"config", "routes", "test", "--config.file=" + file, "--verify.receivers=" + want}, labels...)
		cmd := exec.Command(amtoolBin, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("labels %v: want receivers %s: %v\n%s", labels, want, err, out)
		}
	}
}

// The shipped Alertmanager config mutes a host's per-check alerts while
// Prometheus says that host's agent is down.
func TestAlertmanagerExampleInhibitsChecksWhileAgentDown(t *testing.T) {
	t.Parallel()
	testutil.Slow(t, "real Alertmanager")
	testutil.Tool(t, "prometheus-alertmanager")
	dir := t.TempDir()
	port := freePort(t)
	am := startServer(t, "alertmanager", alertmanagerBin, []string{
		"--config.file=" + filepath.Join(configsDir(t), "alertmanager", "alertmanager.yml"),
		"--storage.path=" + dir,
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=",
	}, fmt.Sprintf("http://127.0.0.1:%d", port))

	now := time.Now()
	post := []map[string]any{
		{"labels": map[string]string{"alertname": "PbxwatchAgentDown", "instance": "pbx1", "job": "pbxwatch", "severity": "critical"}},
		{"labels": map[string]string{"alertname": "PbxwatchCheckFailing", "instance": "pbx1", "check": "whmcs_auth", "code": "whmcs.invalid_ip", "severity": "critical"}},
		{"labels": map[string]string{"alertname": "PbxwatchCheckFailing", "instance": "pbx2", "check": "whmcs_auth", "code": "whmcs.invalid_ip", "severity": "critical"}},
	}
	for _, a := range post {
		a["startsAt"], a["endsAt"] = now, now.Add(time.Hour)
	}
	body, _ := json.Marshal(post)
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST alerts: %s", resp.Status)
	}
	eventually(t, 10*time.Second, "pbx1's check alert inhibited, pbx2's active", func() (bool, string) {
		state := map[string]string{}
		for _, a := range am.alerts(t) {
			if a.Labels["alertname"] == "PbxwatchCheckFailing" {
				state[a.Labels["instance"]] = a.Status.State
			}
		}
		return state["pbx1"] == "suppressed" && state["pbx2"] == "active", fmt.Sprint(state)
	})
}

// The real Prometheus scrapes the real agent running a failing check and
// evaluates the shipped rules: the check's alert goes pending (the rules'
// `for` is minutes long), and stopping the agent raises PbxwatchAgentDown.
func TestPrometheusEvaluatesShippedRulesOnTheAgent(t *testing.T) {
	t.Parallel()
	testutil.Slow(t, "real Prometheus")
	testutil.Tool(t, "prometheus")
	agent := startAgent(t)

	dir := t.TempDir()
	rules := filepath.Join(configsDir(t), "prometheus", "pbxwatch.rules.yml")
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: pbxwatch
    static_configs: [{targets: [%q]}]
    relabel_configs:
      - {source_labels: [__address__], regex: '(.+):\d+', target_label: instance, replacement: '$1'}
`, rules, agent.Addr())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	prom := startServer(t, "prometheus", prometheusBin, []string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
	}, fmt.Sprintf("http://127.0.0.1:%d", port))

	eventually(t, 20*time.Second, "PbxwatchCheckCritical pending for the failing check", func() (bool, string) {
		as := promAlerts(t, prom.url)
		for _, a := range as {
			if a.Labels["alertname"] == "PbxwatchCheckCritical" && a.Labels["check"] == "sip_trunk" &&
				a.Labels["plugin"] == "scripted" && a.Labels["instance"] == "127.0.0.1" && a.Labels["severity"] == "critical" &&
				(a.State == "pending" || a.State == "firing") {
				return true, ""
			}
		}
		return false, fmt.Sprint(as)
	})
	for _, a := range promAlerts(t, prom.url) {
		if a.Labels["check"] == "healthy" {
			t.Errorf("the OK check raised %v", a)
		}
	}

	agent.Signal(syscall.SIGINT)
	agent.Wait(10 * time.Second)
	eventually(t, 20*time.Second, "PbxwatchAgentDown pending", func() (bool, string) {
		as := promAlerts(t, prom.url)
		for _, a := range as {
			if a.Labels["alertname"] == "PbxwatchAgentDown" && a.Labels["instance"] == "127.0.0.1" {
				return true, ""
			}
		}
		return false, fmt.Sprint(as)
	})
}

type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func promAlerts(t *testing.T, url string) []promAlert {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Data.Alerts
}

// startAgent runs the real `pbxwatch run` with two checks through the
// scripted test plugin: sip_trunk CRITICAL, healthy OK.
func startAgent(t *testing.T) *agenttest.Daemon {
	t.Helper()
	in := agenttest.New(t)
	in.AddPlugin("scripted", "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/scripted")
	write := func(name, content string) string {
		p := filepath.Join(in.Dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	failing := write("failing.yaml", `status: CRITICAL
summary: trunk down
diagnoses:
  - {code: freepbx.trunk_unreachable, severity: critical, message: "Trunk provider-1 does not answer OPTIONS.", remediation: ["Check the provider's status page."]}
`)
	healthy := write("healthy.yaml", "status: OK\nsummary: fine\n")
	in.WriteConfig(fmt.Sprintf(`checks:
  - {name: sip_trunk, plugin: scripted, schedule: "@every 1s", config: {script_file: %s}}
  - {name: healthy, plugin: scripted, schedule: "@every 1s", config: {script_file: %s}}
`, failing, healthy))
	return in.Start(agenttest.Options{Patience: 20 * time.Second})
}

// Alerting config errors come out of the agent's config loader with the
// file and the line of the offending key, like every other config error.
func TestAlertingConfigErrorsNameFileAndLine(t *testing.T) {
	src := `agent: {state_dir: /tmp/x, plugin_dir: /tmp/y}
alerting:
  alertmanagers:
    - url: http://127.0.0.1:9093
      timeout: -1s
    - url: http://user:hunter2@127.0.0.1:9094
  resend_interval: 0s
checks:
  - name: whmcs_auth
    plugin: whmcs
    alert:
      for: 1m
      severity: page
`
	_, err := config.Parse("pbxwatch.yml", []byte(src))
	if err == nil {
		t.Fatal("bad alerting config accepted")
	}
	for _, want := range []string{
		"pbxwatch.yml:5: alertmanager http://127.0.0.1:9093: timeout must be positive",
		"pbxwatch.yml:6: alertmanager url \"http://user:xxxxx@127.0.0.1:9094\" carries credentials",
		"pbxwatch.yml:7: alerting.resend_interval must be positive",
		"pbxwatch.yml:13: alert.severity \"page\": use info, warning or critical",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password:\n%v", err)
	}
}
