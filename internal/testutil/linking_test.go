package testutil

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/pbxwatch/pbxwatch"

// isTestSupport reports whether the package at path exists only for
// tests: everything under internal/testutil, the test plugins, the SDK's
// test kit and builder (names ending in "test"), and the benchmark
// commands' code under bench/.
func isTestSupport(path string) bool {
	rel, ok := strings.CutPrefix(path, modulePath+"/")
	if !ok {
		return false
	}
	elems := strings.Split(rel, "/")
	if elems[0] == "bench" {
		return true
	}
	for _, e := range elems {
		if e == "testutil" || e == "testplugins" || (strings.HasSuffix(e, "test") && e != "test") {
			return true
		}
	}
	return false
}

func TestIsTestSupport(t *testing.T) {
	for path, want := range map[string]bool{
		modulePath + "/internal/testutil":                              true,
		modulePath + "/internal/testutil/mariadbtest":                  true,
		modulePath + "/sdk/sdktest":                                    true,
		modulePath + "/sdk/internal/buildtest":                         true,
		modulePath + "/sdk/pluginhost/internal/testplugins/scripted":   true,
		modulePath + "/bench/internal/benchproc":                       true,
		modulePath + "/internal/tailfile":                              false,
		modulePath + "/internal/freepbxdb":                             false,
		modulePath + "/sdk/pluginhost":                                 false,
		modulePath + "/plugins/whmcs/whmcssim":                         false,
		modulePath + "/agent/internal/alerting":                        false,
		"github.com/hashicorp/go-plugin":                               false,
		"testing":                                                      false,
		modulePath + "/plugins/freepbx/freepbxsim":                     false,
		modulePath + "/sdk/pluginhost/internal/testplugins/v1plugin/x": true,
	} {
		if got := isTestSupport(path); got != want {
			t.Errorf("isTestSupport(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestProductionBinariesLinkNoTestSupport: no binary `make build` ships
// or builds as an example (the agent, every plugin, the demo, the SDK's
// example plugin) links a test-support package. Every main package of
// both modules counts except the test plugins and the benchmark commands.
func TestProductionBinariesLinkNoTestSupport(t *testing.T) {
	root := repoRoot(t)
	var binaries []string
	for _, dir := range []string{root, filepath.Join(root, "sdk")} {
		for _, line := range goList(t, dir, `{{if eq .Name "main"}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{end}}`, "./...") {
			fields := strings.Fields(line)
			bin := fields[0]
			if isTestSupport(bin) {
				continue
			}
			binaries = append(binaries, bin)
			for _, dep := range fields[1:] {
				if isTestSupport(dep) {
					t.Errorf("%s links the test-support package %s", bin, dep)
				}
			}
		}
	}
	// Guard the guard: an empty or partial listing would pass vacuously.
	for _, must := range []string{"agent", "tools/pbxwatch-demo", "sdk/example"} {
		if !slices.Contains(binaries, modulePath+"/"+must) {
			t.Errorf("%s missing from the production binaries checked: %v", must, binaries)
		}
	}
	// The bundled plugins are libraries of the agent's binary: checked
	// above as its dependencies.
	agentDeps := goList(t, root, `{{range .Deps}}{{.}} {{end}}`, "./agent")
	for _, plugin := range []string{"whmcs", "freepbx", "logtail", "accesslog", "nagios"} {
		if !strings.Contains(" "+strings.Join(agentDeps, " ")+" ", " "+modulePath+"/plugins/"+plugin+" ") {
			t.Errorf("plugins/%s is not among the agent's dependencies, so no production binary checked links it", plugin)
		}
	}
}

func goList(t *testing.T, dir, format string, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-f", format}, pkgs...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list in %s: %v\n%s", dir, err, stderr)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// repoRoot is the main module's directory (this package is two below it).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
