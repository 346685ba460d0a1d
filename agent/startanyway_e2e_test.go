package main_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// TestBrokenChecksAreUnknownAndTheOthersRun: a check whose plugin is
// missing, fails its sha256 or rejects its config does not keep the agent
// from starting; it reports UNKNOWN with pbxwatch.check_invalid (the error
// with file and line as evidence) in /metrics, /checks and Alertmanager,
// and comes back once a reload fixes it.
func TestBrokenChecksAreUnknownAndTheOthersRun(t *testing.T) {
	am := startAlertmanager(t)
	e := newEnv(t)
	header := fmt.Sprintf("agent: {state_dir: %s, plugin_dir: %s}\nalerting:\n  alertmanagers: [{url: %q}]\n  resend_interval: 1s\nchecks:\n", e.StateDir, e.PluginDir, am.url)
	broken := e.scriptedCheck("good", "@every 1s", "5s") + // lines 6-11
		"  - name: missing\n    plugin: nothere\n" + // 12
		"  - name: rejected\n    plugin: scripted\n    config:\n      reject: url is required\n" + // 14
		"  - name: tampered\n    plugin: scripted\n    sha256: " + strings.Repeat("0", 64) + "\n" + // 18
		"  - name: typo\n    plugin: scripted\n    shedule: '@every 1m'\n" // 21
	write := func(checks string) {
		if err := os.WriteFile(e.Config, []byte(header+checks), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(broken)
	d := e.start()
	status := func(check string) float64 {
		return d.Metric(fmt.Sprintf(`pbxwatch_check_status{check=%q,plugin=%q}`, check, map[string]string{"missing": "nothere"}[check]+map[bool]string{true: "scripted"}[check != "missing"]))
	}
	d.WaitFor("every check reported", func() bool {
		return status("good") == 0 && status("missing") == 3 && status("rejected") == 3 && status("tampered") == 3 && status("typo") == 3
	})
	page, _ := d.Fetch("/checks")
	for _, want := range []string{
		"missing UNKNOWN: check missing cannot run", "pbxwatch.check_invalid",
		e.Config + ":13: check \"missing\": plugin \"nothere\" not found",
		e.Config + ":14: check rejected: invalid config:", "url is required",
		e.Config + ":18: check tampered:", "does not match its configured sha256",
		e.Config + ":23: unknown key \"shedule\"",
		"good OK",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/checks lacks %q:\n%s", want, page)
		}
	}
	d.WaitFor("one check_invalid alert per broken check", func() bool {
		n := 0
		for _, a := range am.active(t, "PbxwatchCheckFailing") {
			if a.Labels["code"] == "pbxwatch.check_invalid" {
				n++
			}
		}
		return n == 4
	})

	// Fixed and reloaded: they run.
	write(e.scriptedCheck("good", "@every 1s", "5s") + e.scriptedCheck("rejected", "@every 1s", "5s") + e.scriptedCheck("typo", "@every 1s", "5s"))
	d.Signal(syscall.SIGHUP)
	d.WaitFor("fixed checks OK", func() bool { return status("rejected") == 0 && status("typo") == 0 })
	d.WaitFor("the alerts resolved", func() bool { return len(am.active(t, "PbxwatchCheckFailing")) == 0 })

	// validate still fails on any of it.
	write(broken)
	_, stderr, code := e.cli("validate", "--config.file="+e.Config)
	if code != 1 || strings.Count(stderr, e.Config+":") < 4 {
		t.Errorf("validate: exit %d\n%s", code, stderr)
	}
}

// TestUnparsableConfigRefusesToStart: a file that is not YAML at all
// still stops the agent, saying why.
func TestUnparsableConfigRefusesToStart(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(e.Config, []byte("checks:\n  - name: a\n   plugin: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := e.cli("run", "--config.file="+e.Config, "--web.listen-address="+agenttest.FreeAddr(t))
	if code != 1 || !strings.Contains(stderr, "cannot load configuration; not starting") || !strings.Contains(stderr, e.Config+":") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}
