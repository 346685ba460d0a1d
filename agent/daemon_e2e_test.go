package main_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

func TestMetricsPresentAndLintClean(t *testing.T) {
	promtool := testutil.Tool(t, "promtool")
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("whmcs_auth", "@every 1h", "5s"))
	e.setScript(`status: WARNING
metrics:
  - {name: whmcs_action_allowed, help: Whether the API role allows the action., value: 1, labels: {action: GetClients}}
  - {name: logtail_lines_total, help: Lines read., counter: true, value: 12, labels: {level: error, check: clash}}
  - {name: pbxwatch_forbidden, help: Reserved prefix., value: 1}
  - {name: "bad name", value: 1}
`)
	d := e.start()
	d.WaitFor("first run", func() bool { return d.Metric(`pbxwatch_check_status{check="whmcs_auth",plugin="scripted"}`) == 1 })
	body, _ := d.Fetch("/metrics")
	for _, want := range []string{
		`pbxwatch_check_last_run_timestamp_seconds{check="whmcs_auth",plugin="scripted"}`,
		`pbxwatch_check_duration_seconds_bucket{check="whmcs_auth",plugin="scripted",le="0.005"}`,
		`pbxwatch_check_runs_total{check="whmcs_auth",result="warning"} 1`,
		`pbxwatch_check_runs_total{check="whmcs_auth",result="ok"} 0`,
		`pbxwatch_check_skipped_total{check="whmcs_auth"} 0`,
		`pbxwatch_plugin_restarts_total{check="whmcs_auth"} 0`,
		`pbxwatch_build_info{`,
		`pbxwatch_config_last_reload_successful 1`,
		`go_goroutines `, `process_resident_memory_bytes `,
		`whmcs_action_allowed{action="GetClients",check="whmcs_auth"} 1`,
		`logtail_lines_total{check="whmcs_auth",exported_check="clash",level="error"} 12`,
		`# TYPE logtail_lines_total counter`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "pbxwatch_forbidden") || strings.Contains(body, "bad name") {
		t.Errorf("invalid plugin metrics exported")
	}
	if !strings.Contains(d.Logs(), "the pbxwatch_ prefix is reserved") {
		t.Errorf("dropped metric not logged")
	}
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = strings.NewReader(body)
	if out, err := lint.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	if page, _ := d.Fetch("/checks"); !strings.Contains(page, "whmcs_auth WARNING") {
		t.Errorf("/checks page:\n%s", page)
	}
}

func TestOverlappingTicksAreSkippedAndCounted(t *testing.T) {
	e := newEnv(t)
	// Each run takes 2.5s; ticks come every second.
	e.setScript("behave: sleep\nsleep: 2500ms\nstatus: OK\n")
	e.writeConfig(e.scriptedCheck("slow", "@every 1s", "10s"))
	d := e.start()
	d.WaitFor("skipped ticks", func() bool { return d.Metric(`pbxwatch_check_skipped_total{check="slow"}`) >= 2 })
	d.WaitFor("a finished run", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="slow",result="ok"}`) >= 1 })
	if !strings.Contains(d.Logs(), "previous run still in progress") {
		t.Error("skip not logged")
	}
}

func TestReloadOnSIGHUP(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("first", "@every 1h", "5s"))
	d := e.start()
	d.WaitFor("first run", func() bool { return d.Metric(`pbxwatch_check_status{check="first",plugin="scripted"}`) == 0 })

	// A config that cannot be read is logged and the old one keeps
	// running. (A check's own problems do not fail a reload: that check
	// reports pbxwatch.check_invalid, TestBrokenChecksAreUnknownAndTheOthersRun.)
	e.writeConfig(e.scriptedCheck("second", "@every 1h", "5s") + "  - name: broken\n   plugin: [\n")
	d.Signal(syscall.SIGHUP)
	d.WaitFor("failed reload", func() bool { return d.Metric("pbxwatch_config_last_reload_successful") == 0 })
	if !strings.Contains(d.Logs(), "reload failed; keeping the running configuration") || !strings.Contains(d.Logs(), e.Config+":") {
		t.Fatalf("failed reload not logged with its reason")
	}
	if d.Metric(`pbxwatch_check_status{check="first",plugin="scripted"}`) != 0 || d.Metric(`pbxwatch_check_status{check="second",plugin="scripted"}`) != -1 {
		t.Fatal("bad config replaced the running one")
	}
	if _, code := d.Fetch("/-/ready"); code != 200 {
		t.Fatal("not ready after a failed reload")
	}

	// A good one replaces it: the new check runs, the old one's series go.
	e.writeConfig(e.scriptedCheck("second", "@every 1h", "5s"))
	d.Signal(syscall.SIGHUP)
	d.WaitFor("second check", func() bool { return d.Metric(`pbxwatch_check_status{check="second",plugin="scripted"}`) == 0 })
	if d.Metric("pbxwatch_config_last_reload_successful") != 1 {
		t.Fatal("reload not recorded as successful")
	}
	if d.Metric(`pbxwatch_check_status{check="first",plugin="scripted"}`) != -1 {
		t.Fatal("removed check still exported")
	}
	if n := len(children(d.PID())); n != 1 {
		t.Fatalf("%d plugin processes after reload, want 1", n)
	}
}

func TestSIGTERMLeavesNoProcessBehind(t *testing.T) {
	e := newEnv(t)
	e.setScript("behave: sleep\nsleep: 300ms\n")
	// b in a process of its own, a in its plugin's shared one.
	e.writeConfig(e.scriptedCheck("a", "@every 1s", "5s") + e.scriptedCheck("b", "@every 1s", "5s") + "    isolate: true\n")
	d := e.start()
	d.WaitFor("runs", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="b",result="ok"}`) >= 1 })
	plugins := children(d.PID())
	if len(plugins) != 2 {
		t.Fatalf("plugin processes: %v", plugins)
	}
	d.Signal(syscall.SIGTERM)
	if code := d.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	waitAllGone(t, plugins, time.Second)
	if !strings.Contains(d.Logs(), "stopped") {
		t.Error("no stop logged")
	}
}

func TestPluginsExitWhenAgentIsSIGKILLed(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("a", "@every 1h", "5s") + e.scriptedCheck("b", "@every 1h", "5s") + "    isolate: true\n")
	d := e.start()
	plugins := children(d.PID())
	if len(plugins) != 2 {
		t.Fatalf("plugin processes: %v", plugins)
	}
	var sockDirs []string
	for _, p := range plugins {
		sockDirs = append(sockDirs, pluginEnv(t, p, "PLUGIN_UNIX_SOCKET_DIR"))
	}
	d.Signal(syscall.SIGKILL)
	d.Wait(5 * time.Second)
	// Plugins poll for their parent every 500ms.
	waitAllGone(t, plugins, 3*time.Second)
	for _, dir := range sockDirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("plugin socket dir %s left behind (%v)", dir, err)
		}
	}
}

// pluginEnv reads one variable of a running process's environment.
func pluginEnv(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	t.Fatalf("process %d has no %s", pid, name)
	return ""
}

func TestHungPluginIsKilledThroughTheAgent(t *testing.T) {
	e := newEnv(t)
	child := e.Dir + "/child.pid"
	e.setScript("behave: hang_child\npid_file: " + child + "\n")
	e.writeConfig(e.scriptedCheck("hung", "@every 1h", "500ms"))
	d := e.start()
	d.WaitFor("UNKNOWN", func() bool { return d.Metric(`pbxwatch_check_status{check="hung",plugin="scripted"}`) == 3 })
	b, err := os.ReadFile(child)
	if err != nil {
		t.Fatal(err)
	}
	var childPID int
	for _, c := range strings.TrimSpace(string(b)) {
		childPID = childPID*10 + int(c-'0')
	}
	waitAllGone(t, []int{childPID}, 3*time.Second)
	if !strings.Contains(d.Logs(), "plugin ignored cancellation; killing its process group") {
		t.Error("kill not logged")
	}
}

func TestPluginKilledBetweenRunsIsRestartedAndCounted(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("k", "@every 1s", "5s"))
	d := e.start()
	d.WaitFor("first run", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="k",result="ok"}`) >= 1 })
	plugins := children(d.PID())
	if len(plugins) != 1 {
		t.Fatalf("plugin processes: %v", plugins)
	}
	if err := syscall.Kill(plugins[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.WaitFor("restart", func() bool { return d.Metric(`pbxwatch_plugin_restarts_total{check="k"}`) == 1 })
	before := d.Metric(`pbxwatch_check_runs_total{check="k",result="ok"}`)
	d.WaitFor("runs after restart", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="k",result="ok"}`) > before })
	if now := children(d.PID()); len(now) != 1 || now[0] == plugins[0] {
		t.Fatalf("plugin processes after restart: %v", now)
	}
}
