package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const v1onlyPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/v1only"

// Protocol 2 plugins share one process per binary; protocol 1 plugins (an
// old binary, another language) keep one per check, in the same agent.
// A reload configures the new checks in the running process: a long run
// in progress completes and is recorded.
func TestV1AndV2PluginsSideBySideAndReloadKeepsRunningRun(t *testing.T) {
	e := newEnv(t)
	e.LinkPlugin("oldstyle", sdktest.Build(t, v1onlyPkg))
	long := filepath.Join(e.Dir, "long.yaml")
	if err := os.WriteFile(long, []byte("behave: sleep\nsleep: 3s\nstatus: OK\nsummary: long run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checks := e.scriptedCheck("s1", "@every 1h", "10s") + e.scriptedCheck("s2", "@every 1h", "10s") +
		fmt.Sprintf("  - name: long\n    plugin: scripted\n    schedule: \"@every 1h\"\n    timeout: 10s\n    config:\n      script_file: %s\n", long) +
		"  - name: o1\n    plugin: oldstyle\n    schedule: \"@every 1h\"\n  - name: o2\n    plugin: oldstyle\n    schedule: \"@every 1h\"\n"
	e.writeConfig(checks)
	d := e.start()
	for _, c := range []string{"s1", "s2", "o1", "o2"} {
		d.WaitFor(c+" run", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="`+c+`",result="ok"}`) == 1 })
	}
	plugins := children(d.PID())
	if len(plugins) != 3 {
		t.Fatalf("plugin processes %v, want 3: one for the scripted checks, one per oldstyle check", plugins)
	}
	if d.Metric(`pbxwatch_check_runs_total{check="long",result="ok"}`) == 1 {
		t.Fatal("the long run ended before the reload")
	}

	// Reload during the long run, with s2 removed.
	e.writeConfig(e.scriptedCheck("s1", "@every 1h", "10s") +
		fmt.Sprintf("  - name: long\n    plugin: scripted\n    schedule: \"@every 1h\"\n    timeout: 10s\n    config:\n      script_file: %s\n", long) +
		"  - name: o1\n    plugin: oldstyle\n    schedule: \"@every 1h\"\n")
	d.Signal(syscall.SIGHUP)
	d.WaitFor("the long run recorded", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="long",result="ok"}`) >= 1 })
	d.WaitFor("s1 run after reload", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="s1",result="ok"}`) == 2 })
	if n := d.Metric(`pbxwatch_check_runs_total{check="long",result="unknown"}`); n > 0 {
		t.Fatalf("the long run was broken by the reload (%v unknown runs):\n%s", n, d.Logs())
	}
	after := children(d.PID())
	shared := plugins[0]
	for _, p := range plugins {
		if strings.Contains(pluginExe(p), "scripted") {
			shared = p
		}
	}
	if !slices.Contains(after, shared) || len(after) != 2 {
		t.Fatalf("plugin processes %v -> %v: want the scripted process %d kept and one oldstyle process left", plugins, after, shared)
	}

	// Stopped as systemd stops it, the agent takes both kinds of plugin
	// process down (the v1 test plugin has no orphan guard of its own, so
	// the harness' SIGKILL would leave it running).
	d.Signal(syscall.SIGTERM)
	select {
	case <-d.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not stop within 30s of SIGTERM")
	}
	for _, pid := range after {
		if syscall.Kill(pid, 0) == nil {
			if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(st), ") Z ") {
				t.Errorf("plugin process %d (%s) outlived the agent's SIGTERM", pid, pluginExe(pid))
			}
		}
	}
}

// pluginExe is the path of the executable a process runs.
func pluginExe(pid int) string {
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return exe
}
