package main

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// agentCheck runs `pbxwatch check --output=json --log.level=debug` on a
// one-check agent config whose whmcs `config:` block is block (flat YAML
// lines), so every diagnosis is also seen through the agent an operator runs.
func agentCheck(t *testing.T, block string) cliRun {
	t.Helper()
	agent, cfgFile := agentWithCheck(t, block)
	return runAgent(t, agent, nil, "check", "--config.file="+cfgFile, "--output=json", "--log.level=debug", "whmcs_auth")
}

// agentWithCheck installs the agent and the plugin in a temp dir with a
// config holding one check, whmcs_auth, whose `config:` block is block.
// It returns the agent binary and the config file.
func agentWithCheck(t *testing.T, block string) (agent, cfgFile string) {
	t.Helper()
	return agentWithChecks(t, map[string]string{"whmcs_auth": block})
}

// agentWithChecks is agentWithCheck for several whmcs checks, keyed by
// check name.
func agentWithChecks(t *testing.T, blocks map[string]string) (agent, cfgFile string) {
	t.Helper()
	agent = sdktest.Build(t, "github.com/pbxwatch/pbxwatch/agent")
	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sdktest.Build(t, pluginPkg), filepath.Join(pluginDir, "pbxwatch-plugin-whmcs")); err != nil {
		t.Fatal(err)
	}
	var checks strings.Builder
	for _, name := range slices.Sorted(maps.Keys(blocks)) {
		fmt.Fprintf(&checks, "  - name: %s\n    plugin: whmcs\n    schedule: \"@every 1h\"\n    timeout: 20s\n    config:\n", name)
		for _, line := range strings.Split(strings.TrimRight(blocks[name], "\n"), "\n") {
			checks.WriteString("      " + line + "\n")
		}
	}
	cfg := fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\nchecks:\n%s", filepath.Join(dir, "state"), pluginDir, checks.String())
	cfgFile = filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return agent, cfgFile
}

// runAgent runs the agent binary with args and extra environment.
func runAgent(t *testing.T, agent string, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(agent, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	run := cliRun{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		run.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("pbxwatch %v: %v", args, err)
	}
	return run
}
