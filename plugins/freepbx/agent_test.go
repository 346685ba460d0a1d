package freepbx_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAgentCheckEveryDiagnosis runs every case of the transport test
// through the agent an operator runs — `pbxwatch check --output=json` with
// debug logging — and asserts the code, the exit status, and that the
// client secret is in neither stdout nor stderr (plugin logs included).
func TestAgentCheckEveryDiagnosis(t *testing.T) {
	for _, c := range pluginCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			secret := c.secretValue()
			checks := c.agentCheck(t, "freepbx_api")
			e := newAgentEnv(t, checks)
			stdout, stderr, code := cli(e, "check", "--config.file="+e.Config, "--output=json", "--log.level=debug", "freepbx_api")
			var out struct {
				Status    string `json:"status"`
				Diagnoses []struct {
					Code string `json:"code"`
				} `json:"diagnoses"`
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("not JSON: %v\n%s\n%s", err, stdout, stderr)
			}
			var codes []string
			for _, d := range out.Diagnoses {
				codes = append(codes, d.Code)
			}
			if code != int(c.status) || out.Status != c.status.String() || strings.Join(codes, ",") != c.code {
				t.Fatalf("exit %d status %s codes %v, want %s %q\n%s", code, out.Status, codes, c.status, c.code, stderr)
			}
			for _, s := range []string{e2eSecret, secret} {
				if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
					t.Errorf("pbxwatch check reveals the secret:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
				}
			}
			if !strings.Contains(stderr, "freepbx API checked") {
				t.Errorf("the plugin's log did not reach the agent's stderr, so the leak check proves nothing:\n%s", stderr)
			}
		})
	}
}

// secretValue is the client secret case c configures.
func (c pluginCase) secretValue() string {
	if c.secret == "" {
		return e2eSecret
	}
	return c.secret
}

// agentCheck is the agent config's checks entry named name that runs case
// c, its secret in a file.
func (c pluginCase) agentCheck(t *testing.T, name string) string {
	t.Helper()
	timeout := c.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	var extra strings.Builder
	for _, line := range strings.Split(strings.TrimRight(c.extra, "\n"), "\n") {
		if line != "" {
			extra.WriteString("      " + line + "\n")
		}
	}
	return fmt.Sprintf("  - name: %s\n    plugin: freepbx\n    schedule: \"@every 1h\"\n    timeout: %s\n    config:\n      url: %s\n      client_id: %s\n      client_secret_file: %s\n%s",
		name, timeout, sim(t), c.clientID, writeSecret(t, c.secretValue()), extra.String())
}
