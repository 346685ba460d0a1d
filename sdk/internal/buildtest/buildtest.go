// Package buildtest builds the project's binaries for tests that must run
// them as real processes (plugins, the agent).
package buildtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
)

// Build compiles the main package pkg once per test process and returns
// the binary's path. The binary is named after the last path element with
// the prefix the agent expects of plugins under plugins/.
//
// A bundled plugin (an import path such as
// "github.com/pbxwatch/pbxwatch/plugins/whmcs", a library the agent's
// binary serves when called by the plugin's name) is the agent's binary
// behind a link named pbxwatch-plugin-NAME, as `make build` and the
// packages install it.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	path, err := build(pkg)
	if err != nil {
		t.Fatalf("build %s: %v", pkg, err)
	}
	return path
}

// agentPkg is the agent's main package, whose binary bundles the plugins
// under bundledPrefix.
const (
	agentPkg      = "github.com/pbxwatch/pbxwatch/agent"
	bundledPrefix = "github.com/pbxwatch/pbxwatch/plugins/"
)

func build(pkg string) (string, error) {
	if name, ok := strings.CutPrefix(pkg, bundledPrefix); ok && !strings.Contains(name, "/") {
		return linkBundled(name)
	}
	mu.Lock()
	defer mu.Unlock()
	return buildLocked(pkg)
}

// linkBundled builds the agent and links pbxwatch-plugin-NAME to it in the
// agent's directory (a relative link, as `make build` writes bin/).
func linkBundled(name string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	agent, err := buildLocked(agentPkg)
	if err != nil {
		return "", err
	}
	link := filepath.Join(filepath.Dir(agent), "pbxwatch-plugin-"+name)
	if target, err := os.Readlink(link); err == nil && target == filepath.Base(agent) {
		return link, nil
	}
	// Link beside and rename, for the reason buildLocked renames.
	tmp := link + fmt.Sprintf(".%d", os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(filepath.Base(agent), tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, link); err != nil {
		return "", err
	}
	return link, nil
}

func buildLocked(pkg string) (string, error) {
	if p, ok := built[pkg]; ok {
		return p, nil
	}
	// The module's directory is part of the key: several checkouts (git
	// worktrees) on one machine must not run each other's binaries.
	sum := sha256.Sum256([]byte(moduleDir() + "\x00" + pkg))
	dir := filepath.Join(os.TempDir(), "pbxwatch-buildtest", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, BinaryName(pkg))
	// Build beside the target and rename: test processes of several
	// packages may build the same binary at once, and a rename never leaves
	// a half-written file where another process executes it.
	tmp, err := os.CreateTemp(dir, ".build-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	cmd := exec.Command("go", "build", "-o", tmp.Name(), pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("%v\n%s", err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	built[pkg] = out
	return out, nil
}

// moduleDir is the directory of the go.mod above the test's working
// directory, or the working directory itself.
func moduleDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

// BinaryName is the file name `make build` gives pkg's binary:
// pbxwatch-plugin-NAME for packages under plugins/, the last element
// otherwise (the agent's package "agent" becomes "pbxwatch").
func BinaryName(pkg string) string {
	base := pkg[strings.LastIndex(pkg, "/")+1:]
	switch {
	case strings.Contains(pkg, "/plugins/"):
		return "pbxwatch-plugin-" + base
	case strings.HasSuffix(pkg, "/agent"):
		return "pbxwatch"
	}
	return base
}
