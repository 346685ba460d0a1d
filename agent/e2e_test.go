package main_test

// End-to-end tests: the real pbxwatch binary, real plugin processes, real
// signals.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const (
	agentPkg    = "github.com/pbxwatch/pbxwatch/agent"
	scriptedPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/scripted"
	noisyPkg    = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/noisy"
)

// env is a pbxwatch installation in a temp dir (agenttest.Install) with the
// scripted and noisy test plugins and a script file steering the scripted
// plugin.
type env struct {
	*agenttest.Install
	t      *testing.T
	script string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	in := agenttest.New(t)
	e := &env{Install: in, t: t, script: filepath.Join(in.Dir, "script.yaml")}
	in.AddPlugin("scripted", scriptedPkg)
	in.AddPlugin("noisy", noisyPkg)
	e.setScript("status: OK\nsummary: all good\n")
	return e
}

func (e *env) setScript(s string) {
	if err := os.WriteFile(e.script, []byte(s), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// writeConfig writes the agent config with the given checks block.
func (e *env) writeConfig(checks string) { e.WriteConfig("checks:\n" + checks) }

// scriptedCheck is a checks entry running the scripted plugin.
func (e *env) scriptedCheck(name, schedule, timeout string) string {
	return agenttest.Check{Name: name, Plugin: "scripted", Schedule: schedule, Timeout: timeout, Config: "script_file: " + e.script}.YAML()
}

// cli runs pbxwatch with args and returns stdout, stderr and the exit code.
func (e *env) cli(args ...string) (string, string, int) {
	e.t.Helper()
	r := e.Run(args...)
	return r.Stdout, r.Stderr, r.Exit
}

// start runs the daemon on e's config (extra flags replace the defaults)
// and waits until it is ready; every wait on it is bounded by 15s.
func (e *env) start(extra ...string) *agenttest.Daemon {
	e.t.Helper()
	return e.Start(agenttest.Options{Args: extra, Patience: 15 * time.Second})
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		child, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if ppid, state := procStat(child); ppid == pid && state != "Z" {
			out = append(out, child)
		}
	}
	return out
}

func procStat(pid int) (ppid int, state string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1, ""
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 {
		return -1, ""
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0]
}

func running(pid int) bool {
	_, state := procStat(pid)
	return state != "" && state != "Z"
}

func waitAllGone(t *testing.T, pids []int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var left []int
		for _, p := range pids {
			if running(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes still running after %s: %v", within, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCheckJSONOutputAndExitCode(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("whmcs_auth", "@every 1m", "5s") + "      secret: hunter2-very-secret\n")
	e.setScript(`status: CRITICAL
summary: WHMCS refused the API call
diagnoses:
  - code: whmcs.invalid_ip
    severity: critical
    message: WHMCS does not allow API calls from 203.0.113.7.
    remediation: [Add 203.0.113.7 to the API IP allow list., Or set an access key.]
    details: {ip: 203.0.113.7}
metrics:
  - {name: whmcs_api_up, help: Whether the API answered., value: 0}
events:
  - {name: ajax_declined, severity: warning, message: a line, labels: {file: freepbx.log}}
`)
	out, stderr, code := e.cli("check", "--config.file="+e.Config, "--output=json", "whmcs_auth")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (CRITICAL)\n%s\n%s", code, out, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"check", "plugin", "status", "summary", "diagnoses", "metrics", "events", "duration_seconds"} {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q missing in %s", k, out)
		}
	}
	if got["check"] != "whmcs_auth" || got["plugin"] != "scripted" || got["status"] != "CRITICAL" {
		t.Errorf("got %v", got)
	}
	d := got["diagnoses"].([]any)[0].(map[string]any)
	if d["code"] != "whmcs.invalid_ip" || d["severity"] != "critical" || len(d["remediation"].([]any)) != 2 || d["details"].(map[string]any)["ip"] != "203.0.113.7" {
		t.Errorf("diagnosis %v", d)
	}
	m := got["metrics"].([]any)[0].(map[string]any)
	if m["name"] != "whmcs_api_up" || m["type"] != "gauge" || m["value"] != 0.0 {
		t.Errorf("metric %v", m)
	}
	ev := got["events"].([]any)[0].(map[string]any)
	if ev["name"] != "ajax_declined" || ev["message"] != "a line" {
		t.Errorf("event %v", ev)
	}
	if strings.Contains(out+stderr, "hunter2-very-secret") {
		t.Errorf("secret leaked:\n%s\n%s", out, stderr)
	}

	out, _, code = e.cli("check", "--config.file="+e.Config, "whmcs_auth")
	for _, want := range []string{"whmcs_auth CRITICAL: WHMCS refused the API call", "[CRITICAL] whmcs.invalid_ip", "ip: 203.0.113.7", "How to fix:", "1. Add 203.0.113.7", "2. Or set an access key."} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if code != 2 {
		t.Errorf("text exit %d", code)
	}
}

func TestCheckExitCodesFollowNagios(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("c", "@every 1m", "5s"))
	for status, want := range map[string]int{"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3} {
		e.setScript("status: " + status + "\n")
		if _, _, code := e.cli("check", "--config.file="+e.Config, "c"); code != want {
			t.Errorf("%s: exit %d, want %d", status, code, want)
		}
	}
	_, stderr, code := e.cli("check", "--config.file="+e.Config, "nope")
	if code != 3 || !strings.Contains(stderr, `no check named "nope"`) {
		t.Errorf("unknown check: exit %d %q", code, stderr)
	}
	_, stderr, code = e.cli("check", "--config.file=/nonexistent.yml", "c")
	if code != 3 || !strings.Contains(stderr, "/nonexistent.yml") {
		t.Errorf("missing config: exit %d %q", code, stderr)
	}
	_, _, code = e.cli("check", "--bogus-flag")
	if code != 3 {
		t.Errorf("usage error: exit %d, want 3", code)
	}
}

func TestCheckByHandLeavesDaemonStateAlone(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("c", "@every 1h", "5s"))
	d := e.start()
	state := filepath.Join(e.StateDir, "checks", "c", "runs")
	d.WaitFor("first run", func() bool { b, _ := os.ReadFile(state); return string(b) == "1" })
	for i := 0; i < 3; i++ {
		if _, stderr, code := e.cli("check", "--config.file="+e.Config, "c"); code != 0 {
			t.Fatalf("check: %d %s", code, stderr)
		}
	}
	if b, _ := os.ReadFile(state); string(b) != "1" {
		t.Fatalf("daemon's state moved by manual runs: %q", b)
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("good", "@every 1m", "5s") +
		"  - name: rejected\n    plugin: scripted\n    config:\n      reject: url is required\n" +
		"  - name: typo\n    plugin: scripted\n    config:\n      scrip_file: x\n" +
		"  - name: noisy\n    plugin: noisy\n")
	_, stderr, code := e.cli("validate", "--config.file="+e.Config)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		e.Config + ":11: check rejected: invalid config:", "url is required",
		e.Config + ":18: unknown key \"scrip_file\"",
		"to stdout before its handshake", "starting my plugin v1.2",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stderr)
		}
	}
	e.writeConfig(e.scriptedCheck("good", "@every 1m", "5s"))
	if out, stderr, code := e.cli("validate", "--config.file="+e.Config); code != 0 || !strings.Contains(out, "1 checks, configuration valid") {
		t.Fatalf("valid config: exit %d %s %s", code, out, stderr)
	}
}

// TestShippedExampleConfigValidates keeps configs/pbxwatch.example.yaml
// honest: with its secret files in place it passes `pbxwatch validate`,
// plugins' own config checks included.
func TestShippedExampleConfigValidates(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"whmcs", "freepbx", "logtail", "nagios", "accesslog"} {
		e.LinkPlugin(p, sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/"+p))
	}
	creds := t.TempDir()
	for _, f := range []string{"whmcs.identifier", "whmcs.secret", "freepbx.secret"} {
		if err := os.WriteFile(filepath.Join(creds, f), []byte("example-credential\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("../configs/pbxwatch.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("state_dir: /var/lib/pbxwatch", "state_dir: "+e.StateDir, "plugin_dir: /usr/libexec/pbxwatch", "plugin_dir: "+e.PluginDir).Replace(string(b))
	if err := os.WriteFile(e.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.Agent, "validate", "--config.file="+e.Config)
	cmd.Env = append(os.Environ(), "CREDENTIALS_DIRECTORY="+creds)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "5 checks, configuration valid") {
		t.Fatalf("validate: %v\n%s", err, out)
	}
}
