package whmcs

// End-to-end: the real pbxwatch CLI runs the real plugin against the
// simulator, as an operator would with `pbxwatch check`.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

// pbxwatchCheck writes an agent config with one whmcs check for the
// simulator path and runs `pbxwatch check` on it. The secret comes from the
// environment (${WHMCS_SECRET}, expanded by the agent), the access key from
// a file, as documented.
func pbxwatchCheck(t *testing.T, path, output string) agenttest.Result {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "whmcs.accesskey")
	if err := os.WriteFile(keyFile, []byte(whmcssim.DefaultAccessKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	block := fmt.Sprintf("url: %s%s\nidentifier: %s\nsecret: ${WHMCS_SECRET}\naccess_key_file: %s\noidc: true\n",
		sim.url, path, whmcssim.DefaultIdentifier, keyFile)
	in := agentWithCheck(t, block)
	in.Env = []string{"WHMCS_SECRET=" + whmcssim.DefaultSecret}
	run := in.Run("check", "--config.file="+in.Config, "--output="+output, "whmcs_auth")
	for _, secret := range []string{whmcssim.DefaultSecret, whmcssim.DefaultAccessKey, whmcssim.DefaultIdentifier} {
		if strings.Contains(run.Stdout+run.Stderr, secret) {
			t.Fatalf("pbxwatch check output contains %q:\nstdout:\n%s\nstderr:\n%s", secret, run.Stdout, run.Stderr)
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
			if err := json.Unmarshal([]byte(run.Stdout), &out); err != nil {
				t.Fatalf("not JSON: %v\n%s\n%s", err, run.Stdout, run.Stderr)
			}
			if run.Exit != c.exit || out.Check != "whmcs_auth" {
				t.Fatalf("exit %d (want %d): %s\n%s", run.Exit, c.exit, run.Stdout, run.Stderr)
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
			if run.Exit != c.exit || !strings.HasPrefix(run.Stdout, "whmcs_auth ") {
				t.Fatalf("exit %d (want %d):\n%s\n%s", run.Exit, c.exit, run.Stdout, run.Stderr)
			}
			if c.code != "" {
				mustContain(t, "text output", run.Stdout, c.code, "How to fix:", "1. ", "Evidence:")
			}
		})
	}
}
