package main_test

// End-to-end tests: the real pbxwatch binary, real plugin processes, real
// signals.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const (
	agentPkg    = "github.com/pbxwatch/pbxwatch/agent"
	scriptedPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/scripted"
	noisyPkg    = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/noisy"
)

// env is a pbxwatch installation in a temp dir: binary, plugin dir, state
// dir and a script file steering the scripted plugin.
type env struct {
	t         *testing.T
	dir       string
	agent     string
	pluginDir string
	stateDir  string
	script    string
	config    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{
		t: t, dir: dir,
		agent:     sdktest.Build(t, agentPkg),
		pluginDir: filepath.Join(dir, "plugins"),
		stateDir:  filepath.Join(dir, "state"),
		script:    filepath.Join(dir, "script.yaml"),
		config:    filepath.Join(dir, "pbxwatch.yml"),
	}
	if err := os.MkdirAll(e.pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.link("scripted", sdktest.Build(t, scriptedPkg))
	e.link("noisy", sdktest.Build(t, noisyPkg))
	e.setScript("status: OK\nsummary: all good\n")
	return e
}

func (e *env) link(name, bin string) {
	if err := os.Symlink(bin, filepath.Join(e.pluginDir, "pbxwatch-plugin-"+name)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) setScript(s string) {
	if err := os.WriteFile(e.script, []byte(s), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// writeConfig writes the agent config with the given checks block.
func (e *env) writeConfig(checks string) {
	cfg := fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\nchecks:\n%s", e.stateDir, e.pluginDir, checks)
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// scriptedCheck is a checks entry running the scripted plugin.
func (e *env) scriptedCheck(name, schedule, timeout string) string {
	return fmt.Sprintf("  - name: %s\n    plugin: scripted\n    schedule: %q\n    timeout: %s\n    config:\n      script_file: %s\n", name, schedule, timeout, e.script)
}

// cli runs pbxwatch with args and returns stdout, stderr and the exit code.
func (e *env) cli(args ...string) (string, string, int) {
	e.t.Helper()
	cmd := exec.Command(e.agent, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// daemon is a running `pbxwatch run`.
type daemon struct {
	e    *env
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (e *env) start(extra ...string) *daemon {
	e.t.Helper()
	d := &daemon{e: e, addr: freeAddr(e.t), logs: newSyncBuffer(), done: make(chan struct{})}
	args := append([]string{"run", "--config.file=" + e.config, "--web.listen-address=" + d.addr, "--log.level=debug", "--shutdown.grace-period=2s", "--schedule.min-interval=1s"}, extra...)
	d.cmd = exec.Command(e.agent, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	e.t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if e.t.Failed() {
			e.t.Logf("agent log:\n%s", d.logs)
		}
	})
	d.waitFor("ready", func() bool { _, code := d.get("/-/ready"); return code == 200 })
	return d
}

func (d *daemon) get(path string) (string, int) {
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		return "", 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

func (d *daemon) waitFor(what string, cond func() bool) {
	d.e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		select {
		case <-d.done:
			d.e.t.Fatalf("agent exited while waiting for %s:\n%s", what, d.logs)
		default:
		}
		if time.Now().After(deadline) {
			d.e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric returns the value of the series whose line starts with prefix
// (name and labels as exposed), or -1.
func (d *daemon) metric(prefix string) float64 {
	body, _ := d.get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(line[len(prefix):]), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

func (d *daemon) signal(sig syscall.Signal) {
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.e.t.Fatal(err)
	}
}

func (d *daemon) wait(timeout time.Duration) int {
	d.e.t.Helper()
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		d.e.t.Fatalf("agent did not exit within %s", timeout)
		return -1
	}
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
	out, stderr, code := e.cli("check", "--config.file="+e.config, "--output=json", "whmcs_auth")
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

	out, _, code = e.cli("check", "--config.file="+e.config, "whmcs_auth")
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
		if _, _, code := e.cli("check", "--config.file="+e.config, "c"); code != want {
			t.Errorf("%s: exit %d, want %d", status, code, want)
		}
	}
	_, stderr, code := e.cli("check", "--config.file="+e.config, "nope")
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
	state := filepath.Join(e.stateDir, "checks", "c", "runs")
	d.waitFor("first run", func() bool { b, _ := os.ReadFile(state); return string(b) == "1" })
	for i := 0; i < 3; i++ {
		if _, stderr, code := e.cli("check", "--config.file="+e.config, "c"); code != 0 {
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
	_, stderr, code := e.cli("validate", "--config.file="+e.config)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		e.config + ":11: check rejected: invalid config:", "url is required",
		e.config + ":18: unknown key \"scrip_file\"",
		"to stdout before its handshake", "starting my plugin v1.2",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stderr)
		}
	}
	e.writeConfig(e.scriptedCheck("good", "@every 1m", "5s"))
	if out, stderr, code := e.cli("validate", "--config.file="+e.config); code != 0 || !strings.Contains(out, "1 checks, configuration valid") {
		t.Fatalf("valid config: exit %d %s %s", code, out, stderr)
	}
}

// TestShippedExampleConfigValidates keeps configs/pbxwatch.example.yaml
// honest: with its secret files in place it passes `pbxwatch validate`,
// plugins' own config checks included.
func TestShippedExampleConfigValidates(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"whmcs", "freepbx", "logtail", "nagios", "accesslog"} {
		e.link(p, sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/"+p))
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
	cfg := strings.NewReplacer("state_dir: /var/lib/pbxwatch", "state_dir: "+e.stateDir, "plugin_dir: /usr/libexec/pbxwatch", "plugin_dir: "+e.pluginDir).Replace(string(b))
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.agent, "validate", "--config.file="+e.config)
	cmd.Env = append(os.Environ(), "CREDENTIALS_DIRECTORY="+creds)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "5 checks, configuration valid") {
		t.Fatalf("validate: %v\n%s", err, out)
	}
}
