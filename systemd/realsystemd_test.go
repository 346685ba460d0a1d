package systemd_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil/nspawntest"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

// image is the Debian 12 (FreePBX 17's base) system the package is tested
// on: minbase plus systemd as PID 1, dbus, and procps to look for leftover
// processes.
var image = nspawntest.Image{Suite: "bookworm", Packages: []string{"systemd", "systemd-sysv", "dbus", "procps"}}

// Versions of the two packages built for the upgrade.
const (
	oldVersion = "0.9.0"
	newVersion = "0.9.1"
)

// A WHMCS secret full of characters that break naive quoting and encoding.
const whmcsSecret = `s3cr"et$&'<ü>%2F\ +=;`

// TestPackageUnderRealSystemd installs the built .deb on a booted Debian 12
// (systemd 252) and drives the hardened unit through start, checks,
// reloads, a config error, stop, upgrade, remove and purge.
func TestPackageUnderRealSystemd(t *testing.T) {
	nspawntest.Require(t)
	start := time.Now()
	bootstrapCtx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	root, err := image.Root(bootstrapCtx, t.Logf)
	cancel()
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	t.Logf("image ready in %s", time.Since(start).Round(time.Millisecond))

	buildStart := time.Now()
	pkgs := t.TempDir()
	oldDeb := buildDeb(t, oldVersion, pkgs)
	newDeb := buildDeb(t, newVersion, pkgs)
	buildStatic(t, "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/scripted", filepath.Join(pkgs, "pbxwatch-plugin-scripted"))

	t.Logf("packages built in %s", time.Since(buildStart).Round(time.Millisecond))

	sim := whmcssim.New(whmcssim.Options{Secret: whmcsSecret})
	srv := httptest.NewServer(sim) // 127.0.0.1: the container shares the host's network
	t.Cleanup(srv.Close)

	// From here every wait is bounded by this deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bootStart := time.Now()
	m, err := nspawntest.Boot(ctx, root, nspawntest.BootOptions{BindRO: map[string]string{pkgs: "/pkgs"}})
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := m.Run(context.Background(), "journalctl", "--no-pager", "-n", "200", "-u", "pbxwatch")
			t.Logf("journal of pbxwatch (last 200 lines):\n%s", out)
		}
		closeStart := time.Now()
		m.Close()
		t.Logf("container powered off in %s", time.Since(closeStart).Round(time.Millisecond))
		if !m.Exited() {
			t.Errorf("container %s still running after Close", m.Name)
		}
	})
	t.Logf("booted %s in %s", m.Name, time.Since(bootStart).Round(time.Millisecond))

	h := &host{t: t, ctx: ctx, m: m, port: freePort(t), sim: srv.URL}
	h.install(oldDeb)
	h.mustShell("install -m 0755 /pkgs/pbxwatch-plugin-scripted /usr/libexec/pbxwatch/")

	steps := []struct {
		name string
		fn   func(*host)
	}{
		{"installed unit verifies", (*host).installedUnitVerifies},
		{"without group asterisk start fails clearly; a drop-in fixes it", (*host).withoutAsteriskGroup},
		{"FreePBX host: log readable by asterisk only", (*host).prepareFreePBXHost},
		{"start waits for READY", (*host).startWaitsForReady},
		{"checks work under the hardened unit", (*host).checksWork},
		{"reload with a good config adds a check", (*host).reloadGood},
		{"reload with a bad config keeps the running one", (*host).reloadBad},
		{"config error fails start with its reason in the journal", (*host).configErrorInJournal},
		{"stop leaves no plugin process", (*host).stopLeavesNothing},
		{"upgrade keeps the edited config and restarts", func(h *host) { h.upgrade(newDeb) }},
		{"remove keeps config, purge removes state", (*host).removeAndPurge},
	}
	for _, s := range steps {
		stepStart := time.Now()
		if !t.Run(s.name, func(t *testing.T) { h.t = t; s.fn(h) }) {
			t.Fatalf("step %q failed; later steps depend on it", s.name)
		}
		t.Logf("%s: %s", s.name, time.Since(stepStart).Round(time.Millisecond))
	}
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

// host is the container as the steps see it.
type host struct {
	t    *testing.T
	ctx  context.Context
	m    *nspawntest.Machine
	port int    // the agent's listen port on the shared loopback
	sim  string // the WHMCS simulator's URL
}

func (h *host) shell(script string) (string, error) { return h.m.Shell(h.ctx, script) }

func (h *host) mustShell(script string) string {
	h.t.Helper()
	out, err := h.shell(script)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *host) write(path, content, mode, owner string) {
	h.t.Helper()
	m, _ := strconv.ParseUint(mode, 8, 32)
	if err := h.m.WriteFile(h.ctx, path, []byte(content), os.FileMode(m), owner); err != nil {
		h.t.Fatal(err)
	}
}

// show returns systemctl show's value of one property of pbxwatch.service.
func (h *host) show(prop string) string {
	h.t.Helper()
	return strings.TrimSpace(h.mustShell("systemctl show --value -p " + prop + " pbxwatch"))
}

// prepareFreePBXHost gives the container what FreePBX has: an asterisk
// user and group, and /var/log/asterisk/freepbx.log readable only by them.
func (h *host) prepareFreePBXHost() {
	h.mustShell(`
groupadd --system asterisk
useradd --system --gid asterisk --no-create-home --shell /usr/sbin/nologin asterisk
install -d -o asterisk -g asterisk -m 0750 /var/log/asterisk
printf '%s\n' '[2026-11-29 10:00:00] [ERROR] (libraries/BMO/Database.class.php:1) - SQLSTATE[HY000] [2002] Connection refused' > /var/log/asterisk/freepbx.log
chown asterisk:asterisk /var/log/asterisk/freepbx.log
chmod 0640 /var/log/asterisk/freepbx.log
`)
}

func (h *host) install(deb string) {
	h.t.Helper()
	out := h.mustShell("DEBIAN_FRONTEND=noninteractive dpkg -i /pkgs/" + filepath.Base(deb) + " </dev/null")
	h.t.Logf("dpkg -i %s:\n%s", filepath.Base(deb), out)
}

func (h *host) installedUnitVerifies() {
	out, err := h.shell("systemd-analyze verify pbxwatch.service 2>&1")
	if err != nil || strings.TrimSpace(out) != "" {
		h.t.Fatalf("systemd-analyze verify of the installed unit: %v\n%s", err, out)
	}
	if got := h.mustShell("systemctl is-enabled pbxwatch || true"); strings.TrimSpace(got) != "enabled" {
		h.t.Errorf("after first install: is-enabled %q, want enabled", got)
	}
	if got := h.show("ActiveState"); got != "inactive" {
		h.t.Errorf("first install must not start the service (the config needs filling in): ActiveState %s", got)
	}
}

// withoutAsteriskGroup: on a host without the asterisk group (no FreePBX
// yet) systemd refuses SupplementaryGroups=asterisk and says why; the
// documented drop-in lets the agent start. A deleted credentials directory
// (LoadCredential= fails on a missing one) is recreated, not fatal.
func (h *host) withoutAsteriskGroup() {
	h.write("/etc/default/pbxwatch", fmt.Sprintf("PBXWATCH_OPTS=--web.listen-address=127.0.0.1:%d\n", h.port), "0644", "root:root")
	h.write("/etc/pbxwatch/pbxwatch.yaml", "checks:\n  - name: minimal\n    plugin: logtail\n    config: { path: /var/log/nothing.log }\n", "0640", "root:pbxwatch")
	h.mustShell("rm -rf /etc/pbxwatch/credentials")
	if _, err := h.shell("systemctl start pbxwatch"); err == nil {
		h.t.Fatal("started without an asterisk group")
	}
	h.waitJournal(regexp.MustCompile(`(?i)supplementary group`))
	h.mustShell(`mkdir -p /etc/systemd/system/pbxwatch.service.d
printf '[Service]\nSupplementaryGroups=\n' > /etc/systemd/system/pbxwatch.service.d/no-asterisk.conf
systemctl daemon-reload
systemctl reset-failed pbxwatch
systemctl start pbxwatch
test -d /etc/pbxwatch/credentials
systemctl stop pbxwatch
rm -r /etc/systemd/system/pbxwatch.service.d
systemctl daemon-reload`)
}

const startDelay = 3 * time.Second

// config is the operator's edited /etc/pbxwatch/pbxwatch.yaml: the FreePBX
// log, a WHMCS API behind a simulator with secrets from
// /etc/pbxwatch/credentials, a plugin slow to configure (so READY comes
// late) and one whose runs hang with a child process.
func (h *host) config(extra string) string {
	return fmt.Sprintf(`# edited by the operator
checks:
  - name: asterisk_log
    plugin: logtail
    schedule: "@every 2s"
    config: { path: /var/log/asterisk/freepbx.log, format: freepbx, start_at: beginning }
  - name: whmcs_api
    plugin: whmcs
    schedule: "@every 1h"
    config:
      url: %s/ok/
      identifier_file: whmcs.identifier
      secret_file: whmcs.secret
      required_actions: [GetClients]
  - name: slow_start
    plugin: scripted
    schedule: "@every 1h"
    config: { configure_delay: %s }
  - name: hangs
    plugin: scripted
    schedule: "@every 1h"
    timeout: 10m
    config: { script_file: /etc/pbxwatch/hang.yaml }
%s`, h.sim, startDelay, extra)
}

func (h *host) startWaitsForReady() {
	h.write("/etc/pbxwatch/credentials/whmcs.identifier", whmcssim.DefaultIdentifier, "0600", "root:root")
	h.write("/etc/pbxwatch/credentials/whmcs.secret", whmcsSecret+"\n", "0600", "root:root")
	h.write("/etc/pbxwatch/hang.yaml", "behave: hang_child\npid_file: /var/lib/pbxwatch/hang.pid\n", "0640", "root:pbxwatch")
	h.write("/etc/default/pbxwatch", fmt.Sprintf("PBXWATCH_OPTS=--web.listen-address=127.0.0.1:%d --shutdown.grace-period=2s --schedule.min-interval=1s\n", h.port), "0644", "root:root")
	h.write("/etc/pbxwatch/pbxwatch.yaml", h.config(""), "0640", "root:pbxwatch")

	if got := h.show("Type"); got != "notify" {
		h.t.Fatalf("Type=%s, want notify", got)
	}
	h.mustShell("systemctl start pbxwatch")
	if got := h.show("ActiveState"); got != "active" {
		h.t.Fatalf("after systemctl start: ActiveState %s", got)
	}
	// The main process started, then spent startDelay configuring the slow
	// plugin before READY=1: systemd made it active only then.
	mainStart, _ := strconv.ParseInt(h.show("ExecMainStartTimestampMonotonic"), 10, 64)
	active, _ := strconv.ParseInt(h.show("ActiveEnterTimestampMonotonic"), 10, 64)
	waited := time.Duration(active-mainStart) * time.Microsecond
	if mainStart == 0 || waited < startDelay {
		h.t.Fatalf("active %s after the main process started, want >= %s (READY=1 after the config loaded)", waited, startDelay)
	}
	h.t.Logf("systemd waited %s between ExecStart and READY=1", waited.Round(time.Millisecond))
}

// checksWork: the log owned by asterisk:asterisk 0640 is read through the
// supplementary group, and the WHMCS check reaches the simulator over the
// network with secrets handed over by LoadCredential=.
func (h *host) checksWork() {
	// The log's one line is a FreePBX SQL error: CRITICAL, matched.
	h.waitMetric(`pbxwatch_check_status{check="asterisk_log",plugin="logtail"} 2`)
	h.waitMetric(`logtail_pattern_matches_total{check="asterisk_log",file="/var/log/asterisk/freepbx.log",pattern="sql_error"} 1`)
	h.waitMetric(`pbxwatch_check_status{check="whmcs_api",plugin="whmcs"} 0`)
	checks := h.get("/checks")
	if strings.Contains(checks, whmcsSecret) || strings.Contains(h.journal(), whmcsSecret) {
		h.t.Error("the WHMCS secret appears in /checks or the journal")
	}
}

func (h *host) reloadGood() {
	pid := h.show("MainPID")
	h.write("/etc/pbxwatch/pbxwatch.yaml", h.config(`  - name: added_by_reload
    plugin: logtail
    config: { path: /var/log/asterisk/freepbx.log, format: freepbx }
`), "0640", "root:pbxwatch")
	h.mustShell("systemctl reload pbxwatch")
	h.waitMetric(`pbxwatch_check_status{check="added_by_reload",plugin="logtail"} 0`)
	h.waitMetric("pbxwatch_config_last_reload_successful 1")
	if got := h.show("MainPID"); got != pid {
		h.t.Errorf("reload restarted the agent: MainPID %s -> %s", pid, got)
	}
}

func (h *host) reloadBad() {
	pid := h.show("MainPID")
	h.write("/etc/pbxwatch/pbxwatch.yaml", brokenFile+h.config(""), "0640", "root:pbxwatch")
	h.mustShell("systemctl reload pbxwatch")
	h.waitMetric("pbxwatch_config_last_reload_successful 0")
	if got := h.show("ActiveState"); got != "active" {
		h.t.Errorf("after a bad reload: ActiveState %s, want active", got)
	}
	if got := h.show("MainPID"); got != pid {
		h.t.Errorf("a bad reload restarted the agent: MainPID %s -> %s", pid, got)
	}
	metrics := h.get("/metrics")
	if !strings.Contains(metrics, `pbxwatch_check_status{check="added_by_reload"`) {
		h.t.Errorf("the running config must stay after a bad reload:\n%s", grepLines(metrics, "pbxwatch_check_status"))
	}
	h.waitJournal(regexp.MustCompile(`reload failed.*shedule`))
}

// brokenFile is a problem of the file itself (not of one check), which
// refuses a start or reload.
const brokenFile = "shedule: oops\n"

// configErrorInJournal: a restart with a broken file fails, and journalctl
// -u pbxwatch names the file, line and key. A broken check alone does not
// stop the others: the agent starts anyway, reports it UNKNOWN, and the
// journal has validate's reason.
func (h *host) configErrorInJournal() {
	if _, err := h.shell("systemctl restart pbxwatch"); err == nil {
		h.t.Fatal("restart with a broken config succeeded")
	}
	// Restart=on-failure retries every RestartSec; each try fails the same way.
	if got := h.show("ActiveState"); got == "active" {
		h.t.Errorf("ActiveState %s after a failed start", got)
	}
	h.waitJournal(regexp.MustCompile(`/etc/pbxwatch/pbxwatch\.yaml:1: unknown key "shedule"`))

	h.write("/etc/pbxwatch/pbxwatch.yaml", h.config("  - name: broken\n    plugin: logtail\n    config: { pth: /x }\n"), "0640", "root:pbxwatch")
	h.mustShell("systemctl reset-failed pbxwatch; systemctl start pbxwatch")
	h.waitMetric(`pbxwatch_check_status{check="broken",plugin="logtail"} 3`)
	h.waitMetric(`pbxwatch_check_status{check="whmcs_api",plugin="whmcs"} 0`)
	h.waitJournal(regexp.MustCompile(`pbxwatch\.yaml:\d+.*"pth"`))

	h.write("/etc/pbxwatch/pbxwatch.yaml", h.config(""), "0640", "root:pbxwatch")
	h.mustShell("systemctl reload pbxwatch")
	h.waitFor("the broken check gone after a reload", func() bool { return !strings.Contains(h.get("/metrics"), `check="broken"`) }, func() string { return "" })
}

// stopLeavesNothing: with a run hanging in a plugin that has its own child
// process, systemctl stop ends every process of the unit.
func (h *host) stopLeavesNothing() {
	child := h.waitFile("/var/lib/pbxwatch/hang.pid")
	if _, err := h.shell("kill -0 " + child); err != nil {
		h.t.Fatalf("the hanging plugin's child %s is not running", child)
	}
	h.mustShell("systemctl stop pbxwatch")
	if got := h.show("ActiveState"); got != "inactive" {
		h.t.Errorf("after stop: ActiveState %s", got)
	}
	if out, err := h.shell("pgrep -a -f 'pbxwatch|sleep 3600'"); err == nil {
		h.t.Fatalf("processes left after stop:\n%s", out)
	}
	h.waitJournal(regexp.MustCompile(`msg=stopped`))
}

// upgrade: with the service running and the config edited, a newer package
// keeps the edit and restarts the agent.
func (h *host) upgrade(deb string) {
	h.mustShell("systemctl start pbxwatch")
	before := h.show("MainPID")
	edited := h.mustShell("cat /etc/pbxwatch/pbxwatch.yaml")
	h.install(deb)
	if got := h.mustShell("cat /etc/pbxwatch/pbxwatch.yaml"); got != edited {
		h.t.Fatalf("upgrade changed the edited config:\n%s", got)
	}
	if got := h.show("ActiveState"); got != "active" {
		h.t.Fatalf("after upgrade: ActiveState %s", got)
	}
	if after := h.show("MainPID"); after == before || after == "0" {
		h.t.Fatalf("upgrade did not restart the agent: MainPID %s -> %s", before, after)
	}
	h.waitMetric(`version="` + newVersion + `"`)
}

func (h *host) removeAndPurge() {
	h.mustShell("rm /usr/libexec/pbxwatch/pbxwatch-plugin-scripted") // not the package's
	h.mustShell("DEBIAN_FRONTEND=noninteractive dpkg -r pbxwatch </dev/null")
	if got := h.show("ActiveState"); got == "active" {
		h.t.Errorf("remove left the service running")
	}
	h.mustShell(`test ! -e /usr/bin/pbxwatch
test -f /etc/pbxwatch/pbxwatch.yaml
grep -q 'edited by the operator' /etc/pbxwatch/pbxwatch.yaml`)
	h.mustShell("DEBIAN_FRONTEND=noninteractive dpkg -P pbxwatch </dev/null")
	h.mustShell(`test ! -e /etc/pbxwatch/pbxwatch.yaml
test ! -e /var/lib/pbxwatch
! dpkg -s pbxwatch >/dev/null 2>&1`)
}

// get fetches a path of the agent's web interface (shared loopback).
func (h *host) get(path string) string {
	h.t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", h.port, path))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b)
}

func (h *host) waitMetric(line string) {
	h.t.Helper()
	h.waitFor("metric "+line, func() bool { return strings.Contains(h.get("/metrics"), line) }, func() string {
		return grepLines(h.get("/metrics"), "pbxwatch_")
	})
}

func (h *host) journal() string {
	out, _ := h.shell("journalctl --no-pager -o cat -u pbxwatch")
	return out
}

func (h *host) waitJournal(re *regexp.Regexp) {
	h.t.Helper()
	h.waitFor("journal line "+re.String(), func() bool { return re.MatchString(h.journal()) }, h.journal)
}

func (h *host) waitFile(path string) string {
	h.t.Helper()
	var content string
	h.waitFor(path, func() bool {
		out, err := h.shell("cat " + path)
		content = strings.TrimSpace(out)
		return err == nil && content != ""
	}, func() string { return "" })
	return content
}

// waitFor polls cond for up to 60s.
func (h *host) waitFor(what string, cond func() bool, diag func() string) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) || h.ctx.Err() != nil {
			h.t.Fatalf("timed out waiting for %s\n%s", what, diag())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildStatic builds a static binary of pkg.
func buildStatic(t *testing.T, pkg, out string) string {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
