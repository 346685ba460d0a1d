package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// The bundled plugins share the agent's binary but not its fate: each runs
// in a process of its own, and one killed takes neither the agent nor
// another plugin down; its next run starts it again.
func TestBundledPluginCrashesAlone(t *testing.T) {
	in := agenttest.New(t)
	in.AddPlugin("logtail", "github.com/pbxwatch/pbxwatch/plugins/logtail")
	in.AddPlugin("nagios", "github.com/pbxwatch/pbxwatch/plugins/nagios")
	log := filepath.Join(t.TempDir(), "freepbx.log")
	if err := os.WriteFile(log, []byte("[2026-12-07 10:00:00] [freepbx.INFO]: started\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in.WriteConfig(agenttest.Checks(
		agenttest.Check{Name: "log", Plugin: "logtail", Schedule: "@every 1s", Config: "path: " + log + "\nfollow: false\n"},
		agenttest.Check{Name: "cmd", Plugin: "nagios", Schedule: "@every 1s", Config: "command: [/bin/true]\n"},
	))
	d := in.Start(agenttest.Options{})
	runs := func(check string) float64 {
		return d.Metric(fmt.Sprintf(`pbxwatch_check_runs_total{check=%q,result="ok"}`, check))
	}
	d.WaitFor("both checks ran", func() bool { return runs("log") >= 1 && runs("cmd") >= 1 })

	procs := bundledChildren(t, d.PID())
	logtail, nagios := procs["pbxwatch-plugin-logtail"], procs["pbxwatch-plugin-nagios"]
	if logtail == 0 || nagios == 0 {
		t.Fatalf("want one process per bundled plugin, found %v", procs)
	}
	agentExe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", d.PID()))
	for name, pid := range procs {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe != agentExe {
			t.Errorf("%s runs %s, not the agent's binary %s", name, exe, agentExe)
		}
	}

	if err := syscall.Kill(logtail, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	before := runs("log")
	d.WaitFor("logtail restarted and ran", func() bool {
		p := bundledChildren(t, d.PID())["pbxwatch-plugin-logtail"]
		return p != 0 && p != logtail && runs("log") > before+1
	})
	if got := bundledChildren(t, d.PID())["pbxwatch-plugin-nagios"]; got != nagios {
		t.Errorf("the nagios plugin's process changed (%d -> %d) when logtail's was killed", nagios, got)
	}
	if _, code := d.Fetch("/-/healthy"); code != 200 {
		t.Errorf("agent not healthy after a plugin was killed: %d", code)
	}
	d.Stop()
}

// bundledChildren maps the name each child of pid was started under
// (argv[0]'s base) to its pid.
func bundledChildren(t *testing.T, pid int) map[string]int {
	t.Helper()
	out := map[string]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so after ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) || fields[0] == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", child))
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		out[filepath.Base(argv0)] = child
	}
	return out
}
