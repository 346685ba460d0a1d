package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// TestValidateListsFileAndPluginProblemsTogether: `pbxwatch validate`
// reports the agent's own problems and those found by plugins in their
// blocks in one run, each at its line, in the operator's words.
func TestValidateListsFileAndPluginProblemsTogether(t *testing.T) {
	e := newEnv(t)
	e.LinkPlugin("whmcs", sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/whmcs"))
	ident := filepath.Join(t.TempDir(), "ident")
	if err := os.WriteFile(ident, []byte("an-identifier\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`agent:
  state_dir: %s
  plugin_dir: %s
  stat_dir: /tmp/x
checks:
  - name: typo
    plugin: scripted
    config:
      scrip_file: %s
  - name: billing
    plugin: whmcs
    timeout: 30
    config:
      url: http://127.0.0.1:1/
      identifier_file: %s
      request_timeout: 10
  - name: billing2
    plugin: whmcs
    config:
      url: http://127.0.0.1:1/
      identifier_file: %s
      secret_file: /nonexistent/whmcs.secret
`, e.StateDir, e.PluginDir, e.script, ident, ident)
	if err := os.WriteFile(e.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := e.cli("validate", "--config.file="+e.Config)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		e.Config + `:4: unknown key "stat_dir": did you mean "state_dir"?`,
		e.Config + `:9: unknown key "scrip_file": did you mean "script_file"?`,
		e.Config + `:12: timeout must be a duration such as 30s`,
		e.Config + `:22: secret_file: open /nonexistent/whmcs.secret: no such file or directory`,
		e.Config + `:16: request_timeout must be a duration such as 30s`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stderr)
		}
	}
	for _, bad := range []string{"secret_file: secret_file", "time.Duration", "unmarshal"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("validate output has %q:\n%s", bad, stderr)
		}
	}
}
