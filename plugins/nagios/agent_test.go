package nagios

// The plugin through the agent an operator runs: `pbxwatch check` and the
// daemon's /metrics.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// agentConfig installs the agent and this plugin with a config holding one
// nagios check, disk_root, whose config: block is block.
func agentConfig(t *testing.T, block string) *agenttest.Install {
	t.Helper()
	in := agenttest.New(t)
	in.AddPlugin("nagios", pluginPkg)
	in.WriteConfig(agenttest.Checks(agenttest.Check{Name: "disk_root", Plugin: "nagios", Schedule: "@every 1h", Timeout: "10s", Config: block}))
	return in
}

func TestPbxwatchCheckRunsANagiosPlugin(t *testing.T) {
	needNagios(t)
	dir := t.TempDir()
	in := agentConfig(t, "command: "+yamlList(nagiosDir+"/check_disk", "-w", "100%", "-c", "0%", "-p", dir)+"\n")
	res := in.Run("check", "--config.file="+in.Config, "--output=json", "disk_root")
	out := []byte(res.Stdout)
	if res.Exit != 1 {
		t.Fatalf("want exit 1 (WARNING: -w 100%% warns always): exit %d\n%s%s", res.Exit, out, res.Stderr)
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
	in := agentConfig(t, "shell: true\ncommand: \""+checkDummy+" 0 'all fine' && echo '| rtt=12ms;100;200;0'\"\n")
	d := in.Start(agenttest.Options{})
	d.WaitForText("/metrics",
		`nagios_perfdata_value{check="disk_root",label="rtt",uom="seconds"} 0.012`,
		`nagios_perfdata_warning{alert_when="outside",bound="upper",check="disk_root",label="rtt",uom="seconds"} 0.1`,
		`nagios_perfdata_min{check="disk_root",label="rtt",uom="seconds"} 0`,
		`pbxwatch_check_status{check="disk_root",plugin="nagios"} 0`,
	)
	d.Stop()
}
