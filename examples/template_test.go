// Package examples tests the example plugins the way their users build
// them: the template outside this repository as its own module.
package examples

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// copyTemplate copies examples/tlscheck into a fresh directory outside the
// repository and points its replace directive at this checkout's SDK, as a
// plugin author with a local clone would.
func copyTemplate(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "pbxwatch-plugin-tlscheck")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("tlscheck")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("tlscheck", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "go.mod" {
			b = []byte(strings.Replace(string(b), "=> ../../sdk", "=> "+filepath.Join(repo, "sdk"), 1))
			if !strings.Contains(string(b), "=> "+filepath.Join(repo, "sdk")) {
				t.Fatalf("go.mod has no replace of the SDK to ../../sdk:\n%s", b)
			}
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// goCmd runs the go command in dir, offline: everything the template needs
// must already be pinned by its go.sum.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// TestTemplateBuildsOutsideTheRepoAndRunsUnderTheAgent builds the template
// as its own module in a temp dir, runs its own tests there, installs the
// binary in a plugin dir with a sha256 pin and runs it with `pbxwatch check`.
func TestTemplateBuildsOutsideTheRepoAndRunsUnderTheAgent(t *testing.T) {
	mod := copyTemplate(t)
	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	bin := filepath.Join(pluginDir, "pbxwatch-plugin-tlscheck")
	goCmd(t, mod, "build", "-o", bin, ".")
	goCmd(t, mod, "vet", "./...")
	goCmd(t, mod, "test", "-count=1", "./...")
	assertLeanModuleGraph(t, mod)

	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := exec.Command("sha256sum", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`agent:
  state_dir: %s
  plugin_dir: %s
checks:
  - name: gui_certificate
    plugin: tlscheck
    sha256: %s
    config:
      address: %s
      ca_file: %s
`, filepath.Join(dir, "state"), pluginDir, strings.Fields(string(sum))[0], strings.TrimPrefix(srv.URL, "https://"), caFile)
	cfgFile := filepath.Join(dir, "pbxwatch.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	agent := sdktest.Build(t, "github.com/pbxwatch/pbxwatch/agent")
	out, err := exec.Command(agent, "check", "--config.file="+cfgFile, "--output=json", "gui_certificate").Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var run struct {
		Status  string
		Metrics []struct {
			Name  string
			Value float64
		}
	}
	if err := json.Unmarshal(out, &run); err != nil || run.Status != "OK" {
		t.Fatalf("%v\n%s", err, out)
	}
	want := float64(srv.Certificate().NotAfter.Unix())
	found := false
	for _, m := range run.Metrics {
		found = found || (m.Name == "tlscheck_cert_not_after_timestamp_seconds" && m.Value == want)
	}
	if !found {
		t.Fatalf("no tlscheck_cert_not_after_timestamp_seconds %v:\n%s", want, out)
	}

	// The pin holds: a rebuilt (different) binary is refused.
	if err := os.WriteFile(filepath.Join(mod, "extra.go"), []byte("package main\n\nvar rebuilt = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd(t, mod, "build", "-o", bin, ".")
	out, err = exec.Command(agent, "check", "--config.file="+cfgFile, "gui_certificate").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "does not match its configured sha256") {
		t.Fatalf("a replaced binary ran: %v\n%s", err, out)
	}
}

// agentOnly are modules of the agent a plugin must not be made to download:
// the point of the SDK being a module of its own.
var agentOnly = []string{"github.com/prometheus/client_golang", "github.com/prometheus/exporter-toolkit",
	"github.com/go-sql-driver/mysql", "github.com/alecthomas/kingpin", "github.com/coreos/go-systemd", "github.com/robfig/cron"}

// assertLeanModuleGraph fails when the template's module graph holds any of
// the agent's own dependencies.
func assertLeanModuleGraph(t *testing.T, mod string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-e", "all")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m all: %v", err)
	}
	for _, m := range agentOnly {
		if strings.Contains(string(out), m+" ") {
			t.Errorf("a plugin built on the SDK depends on the agent's %s:\n%s", m, out)
		}
	}
	t.Logf("modules in a plugin's graph: %d", strings.Count(string(out), "\n"))
}
