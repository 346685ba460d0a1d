package main_test

// End-to-end: the real pbxwatch binary runs the real plugin through
// `pbxwatch check` against the simulator, as an operator would.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const agentPkg = "github.com/pbxwatch/pbxwatch/agent"

type agentEnv struct {
	t      *testing.T
	agent  string
	config string
	env    []string
}

// newAgentEnv writes an agent config whose checks block is checks, with the
// plugin linked into its plugin_dir.
func newAgentEnv(t *testing.T, checks string) *agentEnv {
	t.Helper()
	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sdktest.Build(t, pluginPkg), filepath.Join(pluginDir, "pbxwatch-plugin-freepbx")); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\nchecks:\n%s", filepath.Join(dir, "state"), pluginDir, checks)
	path := filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &agentEnv{t: t, agent: sdktest.Build(t, agentPkg), config: path, env: append(os.Environ(), "FREEPBX_SECRET="+e2eSecret)}
}

func (e *agentEnv) cli(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(e.agent, args...)
	cmd.Env = e.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func check(name, clientID, secretLine, extra string, base string) string {
	return fmt.Sprintf(`  - name: %s
    plugin: freepbx
    schedule: "@every 1m"
    timeout: 10s
    config:
      url: %s
      client_id: %s
      %s
%s`, name, base, clientID, secretLine, extra)
}

func TestAgentCheckCommand(t *testing.T) {
	base := sim(t)
	file := writeSecret(t, e2eSecret)
	checks := check("fpbx_ok", "16-ok", "client_secret_file: "+file, "      expected_extensions: ['2000']\n", base) +
		check("fpbx_scope", "17-framework_only", "client_secret: ${FREEPBX_SECRET}", "", base) +
		check("fpbx_token", "17-revoked", "client_secret_file: "+file, "", base) +
		check("fpbx_echo", "16-debug_page", "client_secret: ${FREEPBX_SECRET}", "", base) +
		check("fpbx_ext", "17-ok", "client_secret_file: "+file, "      expected_extensions: ['2000', '2077']\n", base) +
		check("fpbx_client", "16-ok", "client_secret_file: "+writeSecret(t, "another-wrong-secret"), "", base)
	e := newAgentEnv(t, checks)
	cases := []struct {
		check, code, status string
		exit                int
		metric              string
	}{
		{"fpbx_ok", "", "OK", 0, "freepbx_extensions"},
		{"fpbx_scope", "freepbx.missing_scope", "CRITICAL", 2, "freepbx_scope_granted"},
		{"fpbx_token", "freepbx.token_rejected", "CRITICAL", 2, "freepbx_token_expiry_timestamp_seconds"},
		{"fpbx_echo", "freepbx.server_error", "CRITICAL", 2, "freepbx_api_response_seconds"},
		{"fpbx_ext", "freepbx.extension_missing", "WARNING", 1, "freepbx_api_up"},
		{"fpbx_client", "freepbx.invalid_client", "CRITICAL", 2, "freepbx_api_up"},
	}
	for _, c := range cases {
		t.Run(c.check, func(t *testing.T) {
			out, stderr, code := e.cli("check", "--config.file="+e.config, "--output=json", c.check)
			if strings.Contains(out+stderr, e2eSecret) || strings.Contains(out+stderr, "another-wrong-secret") {
				t.Fatalf("secret leaked:\n%s\n%s", out, stderr)
			}
			var got struct {
				Status    string `json:"status"`
				Diagnoses []struct {
					Code        string   `json:"code"`
					Remediation []string `json:"remediation"`
				} `json:"diagnoses"`
				Metrics []struct {
					Name   string            `json:"name"`
					Labels map[string]string `json:"labels"`
				} `json:"metrics"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not JSON (%v):\n%s\n%s", err, out, stderr)
			}
			var codes []string
			for _, d := range got.Diagnoses {
				codes = append(codes, d.Code)
				if len(d.Remediation) == 0 {
					t.Errorf("%s without remediation", d.Code)
				}
			}
			if code != c.exit || got.Status != c.status || strings.Join(codes, ",") != c.code {
				t.Fatalf("exit %d status %s codes %v, want %d %s %q\n%s\n%s", code, got.Status, codes, c.exit, c.status, c.code, out, stderr)
			}
			found := false
			for _, m := range got.Metrics {
				found = found || m.Name == c.metric
			}
			if !found {
				t.Errorf("metric %s missing:\n%s", c.metric, out)
			}

			text, stderr, code := e.cli("check", "--config.file="+e.config, c.check)
			if strings.Contains(text+stderr, e2eSecret) || strings.Contains(text+stderr, "another-wrong-secret") {
				t.Fatalf("secret leaked in text output:\n%s\n%s", text, stderr)
			}
			if code != c.exit || !strings.Contains(text, c.check+" "+c.status) || (c.code != "" && !strings.Contains(text, c.code)) {
				t.Errorf("text exit %d:\n%s\n%s", code, text, stderr)
			}
		})
	}
}

func TestAgentValidateRejectsForeignScope(t *testing.T) {
	e := newAgentEnv(t, check("fpbx_bad", "17-ok", "client_secret: ${FREEPBX_SECRET}", "      required_scopes: [extensions:read]\n", sim(t)))
	out, stderr, code := e.cli("validate", "--config.file="+e.config)
	all := out + stderr
	if code == 0 || !strings.Contains(all, `did you mean \"gql:core:read\"`) && !strings.Contains(all, `did you mean "gql:core:read"`) {
		t.Fatalf("exit %d:\n%s", code, all)
	}
	if !strings.Contains(all, e.config+":13") {
		t.Errorf("error does not name %s:13:\n%s", e.config, all)
	}
	if strings.Contains(all, e2eSecret) {
		t.Errorf("secret leaked:\n%s", all)
	}
}
