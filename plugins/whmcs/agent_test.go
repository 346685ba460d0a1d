package whmcs

import (
	"maps"
	"slices"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// agentCheck runs `pbxwatch check --output=json --log.level=debug` on a
// one-check agent config whose whmcs `config:` block is block (flat YAML
// lines), so every diagnosis is also seen through the agent an operator runs.
func agentCheck(t *testing.T, block string) agenttest.Result {
	t.Helper()
	in := agentWithCheck(t, block)
	return in.Run("check", "--config.file="+in.Config, "--output=json", "--log.level=debug", "whmcs_auth")
}

// agentWithCheck installs the agent and the plugin with a config holding
// one check, whmcs_auth, whose `config:` block is block.
func agentWithCheck(t *testing.T, block string) *agenttest.Install {
	t.Helper()
	return agentWithChecks(t, map[string]string{"whmcs_auth": block})
}

// agentWithChecks is agentWithCheck for several whmcs checks, keyed by
// check name.
func agentWithChecks(t *testing.T, blocks map[string]string) *agenttest.Install {
	t.Helper()
	in := agenttest.New(t)
	in.AddPlugin("whmcs", pluginPkg)
	var checks []agenttest.Check
	for _, name := range slices.Sorted(maps.Keys(blocks)) {
		checks = append(checks, agenttest.Check{Name: name, Plugin: "whmcs", Schedule: "@every 1h", Timeout: "20s", Config: blocks[name]})
	}
	in.WriteConfig(agenttest.Checks(checks...))
	return in
}
