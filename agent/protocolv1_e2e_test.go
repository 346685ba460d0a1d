package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const v1PluginPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/v1plugin"

// TestCheckCommandRunsProtocolV1Plugin: a plugin binary of protocol
// version 1, with its handshake frozen as shipped, works with
// `pbxwatch check` (the host half is sdk/pluginhost's
// TestProtocolV1PluginStillRuns).
func TestCheckCommandRunsProtocolV1Plugin(t *testing.T) {
	bin := sdktest.Build(t, v1PluginPkg)

	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(pluginDir, "pbxwatch-plugin-v1plugin")); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\nchecks:\n  - name: old\n    plugin: v1plugin\n", filepath.Join(dir, "state"), pluginDir)
	cfgFile := filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sdktest.Build(t, "github.com/pbxwatch/pbxwatch/agent"), "check", "--config.file="+cfgFile, "--output=json", "old").Output()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("want exit 1 (WARNING): %v\n%s", err, out)
	}
	var run struct{ Status, Summary string }
	if err := json.Unmarshal(out, &run); err != nil || run.Status != "WARNING" || run.Summary != "v1 plugin answering for old" {
		t.Fatalf("%v\n%s", err, out)
	}
}
