package hosttest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

const v1Pkg = "github.com/pbxwatch/pbxwatch/internal/testplugins/v1plugin"

// TestProtocolV1PluginStillRuns: a plugin binary of protocol version 1,
// with its handshake frozen as shipped, works with this agent's host and
// with `pbxwatch check`.
func TestProtocolV1PluginStillRuns(t *testing.T) {
	bin := buildtest.Build(t, v1Pkg)
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{Check: "old", Plugin: "v1plugin", Binary: bin, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	res := h.Run(context.Background(), 5*time.Second)
	if res.Status != sdk.StatusWarning || res.Summary != "v1 plugin answering for old" || len(res.Diagnoses) != 1 ||
		res.Diagnoses[0].Code != "v1.example" || res.Diagnoses[0].Details["protocol"] != "1" || len(res.Metrics) != 1 || res.Metrics[0].Labels["k"] != "v" {
		t.Fatalf("%+v", res)
	}

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
	out, err := exec.Command(buildtest.Build(t, "github.com/pbxwatch/pbxwatch/agent"), "check", "--config.file="+cfgFile, "--output=json", "old").Output()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("want exit 1 (WARNING): %v\n%s", err, out)
	}
	var run struct{ Status, Summary string }
	if err := json.Unmarshal(out, &run); err != nil || run.Status != "WARNING" || run.Summary != "v1 plugin answering for old" {
		t.Fatalf("%v\n%s", err, out)
	}
}
