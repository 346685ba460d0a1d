package main

import (
	"io"
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
	"github.com/pbxwatch/pbxwatch/plugins/freepbx/freepbxsim"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// TestDemoRunsConfigsDemoYAML runs what `make demo` runs — the demo tool,
// the real agent and plugins, on configs/demo.yaml — and checks a newcomer
// sees healthy and failing checks with their diagnoses.
//
// The demo runs without Alertmanager, but the test needs it: the missing-tool
// rule applies, and the alert must arrive.
func TestDemoRunsConfigsDemoYAML(t *testing.T) {
	testutil.Slow(t, "the demo: agent, plugins, simulators and Alertmanager")
	testutil.Tool(t, "prometheus-alertmanager")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"agent", "plugins/whmcs", "plugins/freepbx", "plugins/logtail", "plugins/accesslog"} {
		path := sdktest.Build(t, "github.com/pbxwatch/pbxwatch/"+pkg)
		if err := os.Symlink(path, filepath.Join(bin, filepath.Base(path))); err != nil {
			t.Fatal(err)
		}
	}
	demo := sdktest.Build(t, "github.com/pbxwatch/pbxwatch/tools/pbxwatch-demo")
	cfg, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo.yaml"), []byte(strings.Replace(string(cfg), "plugin_dir: bin", "plugin_dir: "+bin, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(demo, "--bin-dir="+bin, "--config=demo.yaml", "--data-dir=demo-data")
	cmd.Dir = dir
	out := &agenttest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("demo did not stop on SIGTERM")
		}
		if t.Failed() {
			t.Logf("demo output:\n%s", out.String())
		}
	}()

	wants := []string{
		"whmcs_billing OK", "whmcs_auth CRITICAL", "[CRITICAL] whmcs.invalid_ip",
		"whmcs_role WARNING", "freepbx_api OK", "[CRITICAL] freepbx.missing_scope", "freepbx_log",
		"[CRITICAL] accesslog.api_failing",
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		page := get("http://" + agentAddr + "/checks")
		missing := ""
		for _, w := range wants {
			if !strings.Contains(page, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/checks never showed %q:\n%s", missing, page)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// It sends people to the agent's status page, not to a web UI Debian's
	// Alertmanager does not have. (The URLs print once the agent is up,
	// which may be just after its first results.)
	for !strings.Contains(out.String(), "Ctrl-C stops everything") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "http://"+agentAddr+"/ ") || strings.Contains(out.String(), "#/alerts") {
		t.Errorf("demo did not print the status page's URL (or printed Alertmanager's UI)")
	}
	if page := get("http://" + agentAddr + "/"); !strings.Contains(page, "whmcs.invalid_ip") || !strings.Contains(page, "How to fix") {
		t.Errorf("status page lacks the demo's diagnosis:\n%s", page)
	}
	alerts := ""
	for !strings.Contains(alerts, "whmcs.invalid_ip") {
		if time.Now().After(deadline) {
			t.Fatal("the demo's Alertmanager never got the whmcs.invalid_ip alert")
		}
		time.Sleep(200 * time.Millisecond)
		alerts = get("http://" + alertmanagerAddr + "/api/v2/alerts")
	}

	// The daemon holds real credentials of both simulators: none may show in
	// what it serves, sends or logs.
	surfaces := map[string]string{
		"/metrics": get("http://" + agentAddr + "/metrics"),
		"/checks":  get("http://" + agentAddr + "/checks"),
		"/":        get("http://" + agentAddr + "/"),
		"/api":     get("http://" + agentAddr + "/api/v1/checks"),
		"alerts":   alerts,
		"log":      out.String(),
	}
	for where, text := range surfaces {
		for _, secret := range []string{whmcssim.DefaultSecret, whmcssim.DefaultIdentifier, freepbxsim.DefaultSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("%s reveals a credential %q", where, secret)
			}
		}
	}
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
