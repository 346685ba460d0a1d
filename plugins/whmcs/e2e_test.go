package main

// End-to-end: the real pbxwatch CLI runs the real plugin against the
// simulator, as an operator would with `pbxwatch check`.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

// cliRun is one `pbxwatch check` invocation's outcome.
type cliRun struct {
	exit           int
	stdout, stderr string
}

// pbxwatchCheck writes an agent config with one whmcs check for the
// simulator path and runs `pbxwatch check` on it. The secret comes from the
// environment (${WHMCS_SECRET}, expanded by the agent), the access key from
// a file, as documented.
func pbxwatchCheck(t *testing.T, path, output string) cliRun {
	t.Helper()
	agent := buildtest.Build(t, "github.com/pbxwatch/pbxwatch/agent")
	plugin := buildtest.Build(t, pluginPkg)
	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(plugin, filepath.Join(pluginDir, "pbxwatch-plugin-whmcs")); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "whmcs.accesskey")
	if err := os.WriteFile(keyFile, []byte(whmcssim.DefaultAccessKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`agent:
  state_dir: %s
  plugin_dir: %s
checks:
  - name: whmcs_auth
    plugin: whmcs
    schedule: "@every 1m"
    timeout: 20s
    config:
      url: %s%s
      identifier: %s
      secret: ${WHMCS_SECRET}
      access_key_file: %s
      oidc: true
`, filepath.Join(dir, "state"), pluginDir, sim.url, path, whmcssim.DefaultIdentifier, keyFile)
	cfgFile := filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agent, "check", "--config.file="+cfgFile, "--output="+output, "whmcs_auth")
	cmd.Env = append(os.Environ(), "WHMCS_SECRET="+whmcssim.DefaultSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	run := cliRun{stdout: stdout.String(), stderr: stderr.String()}
	switch {
	case errors.As(err, &exitErr):
		run.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("pbxwatch check: %v", err)
	}
	for _, secret := range []string{whmcssim.DefaultSecret, whmcssim.DefaultAccessKey, whmcssim.DefaultIdentifier} {
		if strings.Contains(run.stdout+run.stderr, secret) {
			t.Fatalf("pbxwatch check output contains %q:\nstdout:\n%s\nstderr:\n%s", secret, run.stdout, run.stderr)
		}
	}
	return run
}

func TestCLICheck(t *testing.T) {
	cases := []struct {
		path, code string
		exit       int
	}{
		{"/", "", 0},
		{"/restricted/", "whmcs.permission_denied", 1},
		{"/invalid_ip_lb/", "", 0}, // the access key bypasses the IP check
		{"/cloudflare_block/", "whmcs.edge_blocked", 2},
		{"/oidc_no_keys/", "whmcs.oidc_keys_invalid", 2},
	}
	for _, c := range cases {
		t.Run(strings.Trim(c.path, "/")+"_json", func(t *testing.T) {
			t.Parallel()
			run := pbxwatchCheck(t, c.path, "json")
			var out struct {
				Check     string `json:"check"`
				Status    string `json:"status"`
				Summary   string `json:"summary"`
				Diagnoses []struct {
					Code        string            `json:"code"`
					Remediation []string          `json:"remediation"`
					Details     map[string]string `json:"details"`
				} `json:"diagnoses"`
				Metrics []struct {
					Name   string            `json:"name"`
					Labels map[string]string `json:"labels"`
					Value  float64           `json:"value"`
				} `json:"metrics"`
			}
			if err := json.Unmarshal([]byte(run.stdout), &out); err != nil {
				t.Fatalf("not JSON: %v\n%s\n%s", err, run.stdout, run.stderr)
			}
			if run.exit != c.exit || out.Check != "whmcs_auth" {
				t.Fatalf("exit %d (want %d): %s\n%s", run.exit, c.exit, run.stdout, run.stderr)
			}
			if c.code == "" && len(out.Diagnoses) != 0 || c.code != "" && (len(out.Diagnoses) == 0 || out.Diagnoses[0].Code != c.code) {
				t.Fatalf("diagnoses %+v, want %q", out.Diagnoses, c.code)
			}
			up := -1.0
			for _, m := range out.Metrics {
				if m.Name == "whmcs_api_up" {
					up = m.Value
				}
			}
			if want := map[bool]float64{true: 0, false: 1}[c.code == "whmcs.edge_blocked"]; up != want {
				t.Fatalf("whmcs_api_up %v, want %v", up, want)
			}
		})
		t.Run(strings.Trim(c.path, "/")+"_text", func(t *testing.T) {
			t.Parallel()
			run := pbxwatchCheck(t, c.path, "text")
			if run.exit != c.exit || !strings.HasPrefix(run.stdout, "whmcs_auth ") {
				t.Fatalf("exit %d (want %d):\n%s\n%s", run.exit, c.exit, run.stdout, run.stderr)
			}
			if c.code != "" {
				mustContain(t, "text output", run.stdout, c.code, "How to fix:", "1. ", "Evidence:")
			}
		})
	}
}
