package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/hostile"
)

// bombLimit is the data segment `validate` gets for a bomb: 256 MiB. Before
// the bound, the nested-list bomb reached it within seconds and died "out
// of memory" (tens of GB and minutes without a limit). RLIMIT_DATA rather
// than RLIMIT_AS: the Go runtime reserves address space it never touches.
const bombLimit = 256 << 20

// Every alias bomb is refused by `validate` under a memory limit, quickly,
// naming its line; figures (time, peak RSS) are logged for docs/design.md.
func TestFaultAliasBombsUnderAMemoryLimit(t *testing.T) {
	e := newEnv(t)
	agentBlock := fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\n", e.StateDir, e.PluginDir)
	for _, bomb := range hostile.AliasBombs() {
		t.Run(bomb.Name, func(t *testing.T) {
			if err := os.WriteFile(e.Config, []byte(bomb.Config+agentBlock), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("prlimit", fmt.Sprintf("--data=%d", bombLimit), e.Agent, "validate", "--config.file="+e.Config)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			began := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// A hang guard, not a speed target: before the bound this ran
			// for minutes.
			timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
			err := cmd.Wait()
			timer.Stop()
			took := time.Since(began)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("validate: %v, want exit 1:\n%.2000s", err, out.String())
			}
			want := fmt.Sprintf("%s:%d: alias *", e.Config, bomb.Line)
			if !strings.Contains(out.String(), want) {
				t.Fatalf("validate output lacks %q:\n%.2000s", want, out.String())
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
			t.Logf("%s: validate %d bytes of config: exit 1 in %s, peak RSS %d KiB", bomb.Name, len(bomb.Config+agentBlock), took.Round(time.Millisecond), rss)
		})
	}
}

// A reload carrying a bomb is refused: the agent keeps running with its
// configuration (before, it died "out of memory" and monitoring stopped).
func TestFaultAliasBombReloadKeepsTheRunningConfig(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.scriptedCheck("first", "@every 1h", "5s"))
	d := e.start()
	d.WaitFor("first run", func() bool { return d.Metric(`pbxwatch_check_status{check="first",plugin="scripted"}`) == 0 })

	bomb := hostile.AliasBombs()[0]
	cfg := bomb.Config + fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\n", e.StateDir, e.PluginDir)
	if err := os.WriteFile(e.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Signal(syscall.SIGHUP)
	d.WaitFor("failed reload", func() bool { return d.Metric("pbxwatch_config_last_reload_successful") == 0 })
	if want := fmt.Sprintf("%s:%d: alias *", e.Config, bomb.Line); !strings.Contains(d.Logs(), want) {
		t.Fatalf("failed reload not logged with %q", want)
	}
	if d.Metric(`pbxwatch_check_status{check="first",plugin="scripted"}`) != 0 || d.Metric(`pbxwatch_check_status{check="bomb",plugin="scripted"}`) != -1 {
		t.Fatal("the bomb replaced the running config")
	}
	if _, code := d.Fetch("/-/ready"); code != 200 {
		t.Fatal("not ready after the refused reload")
	}
	// Still serving: a good config after it is applied.
	e.writeConfig(e.scriptedCheck("second", "@every 1h", "5s"))
	d.Signal(syscall.SIGHUP)
	d.WaitFor("second check", func() bool { return d.Metric(`pbxwatch_check_status{check="second",plugin="scripted"}`) == 0 })
}

// Issue 23, item 8: of two checks with one name, validate showed the
// second's errors twice and never the first's.
func TestFaultDuplicatedCheckNameHidesNoError(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(fmt.Sprintf(`  - name: b
    plugin: scripted
    schedule: "* * 31 2 *"
    config: {script_file: %s}
  - name: b
    plugin: scripted
    timeout: -1s
    config: {script_file: %s}
`, e.script, e.script))
	_, stderr, code := e.cli("validate", "--config.file="+e.Config)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`check name "b" is used twice`, `schedule "* * 31 2 *": never fires`, "timeout must be positive"} {
		if n := strings.Count(stderr, want); n != 1 {
			t.Errorf("%q appears %d times:\n%s", want, n, stderr)
		}
	}
}
