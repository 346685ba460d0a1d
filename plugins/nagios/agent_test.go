package main

// The plugin through the agent an operator runs: `pbxwatch check` and the
// daemon's /metrics.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// agentConfig installs the agent and this plugin in a temp dir and writes a
// config with one nagios check, disk_root, whose config: block is block.
func agentConfig(t *testing.T, block string) (agent, cfgFile string) {
	t.Helper()
	agent = sdktest.Build(t, "github.com/pbxwatch/pbxwatch/agent")
	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sdktest.Build(t, pluginPkg), filepath.Join(pluginDir, "pbxwatch-plugin-nagios")); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		b.WriteString("      " + line + "\n")
	}
	cfg := fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\nchecks:\n  - name: disk_root\n    plugin: nagios\n    schedule: \"@every 1h\"\n    timeout: 10s\n    config:\n%s",
		filepath.Join(dir, "state"), pluginDir, b.String())
	cfgFile = filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return agent, cfgFile
}

func TestPbxwatchCheckRunsANagiosPlugin(t *testing.T) {
	needNagios(t)
	dir := t.TempDir()
	agent, cfgFile := agentConfig(t, "command: "+yamlList(nagiosDir+"/check_disk", "-w", "100%", "-c", "0%", "-p", dir)+"\n")
	cmd := exec.Command(agent, "check", "--config.file="+cfgFile, "--output=json", "disk_root")
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("want exit 1 (WARNING: -w 100%% warns always): %v\n%s", err, out)
	}
	var run struct {
		Status    string
		Summary   string
		Diagnoses []struct{ Code string }
		Metrics   []struct {
			Name   string
			Labels map[string]string
			Value  float64
		}
	}
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if run.Status != "WARNING" || !strings.HasPrefix(run.Summary, "DISK WARNING") || len(run.Diagnoses) != 1 || run.Diagnoses[0].Code != codeWarning {
		t.Fatalf("%s", out)
	}
	found := false
	for _, m := range run.Metrics {
		if m.Name == "nagios_perfdata_value" && m.Labels["uom"] == "bytes" && m.Value > 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no bytes value:\n%s", out)
	}
}

func TestDaemonExportsPerfdata(t *testing.T) {
	needNagios(t)
	// check_dummy prints no perfdata; a second line, after '|', adds some.
	agent, cfgFile := agentConfig(t, "shell: true\ncommand: \""+checkDummy+" 0 'all fine' && echo '| rtt=12ms;100;200;0'\"\n")
	d := agenttest.Run(t, agent, cfgFile)
	d.WaitFor(func() string {
		m := d.Get("/metrics")
		for _, want := range []string{
			`nagios_perfdata_value{check="disk_root",label="rtt",uom="seconds"} 0.012`,
			`nagios_perfdata_warning{alert_when="outside",bound="upper",check="disk_root",label="rtt",uom="seconds"} 0.1`,
			`nagios_perfdata_min{check="disk_root",label="rtt",uom="seconds"} 0`,
			`pbxwatch_check_status{check="disk_root",plugin="nagios"} 0`,
		} {
			if !strings.Contains(m, want) {
				return want
			}
		}
		return ""
	})
	d.Stop()
}
