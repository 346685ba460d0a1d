package freepbx_test

// End-to-end: the real pbxwatch binary runs the real plugin through
// `pbxwatch check` against the simulator, as an operator would.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// newAgentEnv installs the agent and the plugin with a config whose checks
// block is checks; FREEPBX_SECRET is set for ${FREEPBX_SECRET}.
func newAgentEnv(t *testing.T, checks string) *agenttest.Install {
	t.Helper()
	in := agenttest.New(t)
	in.AddPlugin("freepbx", pluginPkg)
	in.WriteConfig("checks:\n" + checks)
	in.Env = []string{"FREEPBX_SECRET=" + e2eSecret}
	return in
}

// cli runs pbxwatch with args and returns what it printed and its exit code.
func cli(in *agenttest.Install, args ...string) (stdout, stderr string, code int) {
	r := in.Run(args...)
	return r.Stdout, r.Stderr, r.Exit
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
			out, stderr, code := cli(e, "check", "--config.file="+e.Config, "--output=json", c.check)
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

			text, stderr, code := cli(e, "check", "--config.file="+e.Config, c.check)
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
	out, stderr, code := cli(e, "validate", "--config.file="+e.Config)
	all := out + stderr
	if code == 0 || !strings.Contains(all, `did you mean \"gql:core:read\"`) && !strings.Contains(all, `did you mean "gql:core:read"`) {
		t.Fatalf("exit %d:\n%s", code, all)
	}
	if !strings.Contains(all, e.Config+":13") {
		t.Errorf("error does not name %s:13:\n%s", e.Config, all)
	}
	if strings.Contains(all, e2eSecret) {
		t.Errorf("secret leaked:\n%s", all)
	}
}
