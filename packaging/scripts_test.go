package packaging_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

// The maintainer scripts as shipped, run by /bin/sh with every command they
// call replaced by a recorder on an otherwise empty PATH: what they would
// do to a host, without doing it: every branch of both packages' scripts.
// The real thing runs in chroot_test.go (dpkg and rpm in a Debian chroot,
// no systemd running) and under booted systemd in systemd/realsystemd_test.go.

// recorded commands: each logs "name args" to $LOG. getent answers from
// $USERS and $GROUPS_PRESENT; deb-systemd-helper was-enabled from $WAS_ENABLED.
var shims = map[string]string{
	"getent": `case "$1" in
passwd) case " $USERS " in *" $2 "*) exit 0 ;; esac; exit 2 ;;
group) case " $GROUPS_PRESENT " in *" $2 "*) exit 0 ;; esac; exit 2 ;;
esac; exit 2`,
	"id":                 `echo pbxwatch`,
	"deb-systemd-helper": `[ "$1" = --quiet ] && [ "$2" = was-enabled ] && exit "${WAS_ENABLED:-0}"; exit 0`,
	"useradd":            ``, "usermod": ``, "systemd-sysusers": ``, "systemd-tmpfiles": ``, "install": ``,
	"systemctl": ``, "deb-systemd-invoke": ``, "rm": ``, "rmdir": `exit 1`,
}

// passthrough are the text tools the scripts pipe through.
var passthrough = []string{"cat", "tr", "grep"}

type scriptEnv struct {
	t        *testing.T
	dir, log string
}

func newScriptEnv(t *testing.T) *scriptEnv {
	t.Helper()
	e := &scriptEnv{t: t, dir: t.TempDir()}
	e.log = filepath.Join(e.dir, "log")
	bin := filepath.Join(e.dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range shims {
		script := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >> \"$LOG\"\n%s\n", name, body)
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range passthrough {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(real, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// run runs script with args and returns its stdout and the commands it ran.
func (e *scriptEnv) run(script string, env []string, args ...string) (stdout string, calls []string) {
	e.t.Helper()
	os.Remove(e.log)
	path := filepath.Join(e.dir, "script")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", append([]string{path}, args...)...)
	cmd.Env = append([]string{"PATH=" + filepath.Join(e.dir, "bin"), "LOG=" + e.log}, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		e.t.Fatalf("script %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, &out, &errb)
	}
	if strings.Contains(errb.String(), "not found") {
		e.t.Fatalf("script %v ran a command with no recorder:\n%s", args, &errb)
	}
	b, _ := os.ReadFile(e.log)
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			calls = append(calls, l)
		}
	}
	return out.String(), calls
}

func has(calls []string, prefix string) bool {
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

func expect(t *testing.T, what string, calls []string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !has(calls, w) {
			t.Errorf("%s: did not run %q; ran:\n  %s", what, w, strings.Join(calls, "\n  "))
		}
	}
	for _, w := range notWant {
		if has(calls, w) {
			t.Errorf("%s: ran %q; ran:\n  %s", what, w, strings.Join(calls, "\n  "))
		}
	}
}

// systemdRunning is what the scripts test to decide whether to talk to
// systemd; the test host may or may not have it.
func systemdRunning() bool {
	st, err := os.Stat("/run/systemd/system")
	return err == nil && st.IsDir()
}

// debScripts extracts the maintainer scripts of the built .deb.
func debScripts(t *testing.T) map[string]string {
	t.Helper()
	testutil.Tool(t, "dpkg-deb")
	_, deb, _ := makePackage(t)
	dir := t.TempDir()
	run(t, ".", nil, "dpkg-deb", "--control", deb, dir)
	out := map[string]string{}
	for _, name := range []string{"postinst", "prerm", "postrm"} {
		out[name] = read(t, filepath.Join(dir, name))
		if strings.Contains(out[name], "@SETUP@") {
			t.Fatalf("%s still holds @SETUP@", name)
		}
		if b, err := exec.Command("/bin/sh", "-n", filepath.Join(dir, name)).CombinedOutput(); err != nil {
			t.Fatalf("%s: sh -n: %v\n%s", name, err, b)
		}
	}
	return out
}

// rpmScripts extracts the scriptlets of the built .rpm.
func rpmScripts(t *testing.T) map[string]string {
	t.Helper()
	testutil.Tool(t, "rpm")
	_, _, rpm := makePackage(t)
	out := map[string]string{}
	for name, tag := range map[string]string{"post": "POSTIN", "preun": "PREUN", "postun": "POSTUN"} {
		out[name] = run(t, ".", nil, "rpm", "-qp", "--qf", "%{"+tag+"}", rpm)
		if strings.Contains(out[name], "@SETUP@") || strings.TrimSpace(out[name]) == "(none)" {
			t.Fatalf("rpm %s scriptlet: %q", name, out[name])
		}
	}
	return out
}

func TestDebPostinst(t *testing.T) {
	s := debScripts(t)
	e := newScriptEnv(t)

	out, calls := e.run(s["postinst"], []string{"USERS=", "GROUPS_PRESENT=asterisk adm"}, "configure", "")
	expect(t, "first install", calls,
		[]string{"systemd-sysusers /usr/lib/sysusers.d/pbxwatch.conf", "useradd --system --user-group --home-dir /var/lib/pbxwatch",
			"usermod -a -G asterisk pbxwatch", "usermod -a -G adm pbxwatch", "deb-systemd-helper enable pbxwatch.service"},
		[]string{"deb-systemd-invoke", "systemctl start", "systemctl restart"})
	if !strings.Contains(out, "NOT started") || !strings.Contains(out, "pbxwatch check") {
		t.Errorf("first install does not tell the operator what is left:\n%s", out)
	}

	out, calls = e.run(s["postinst"], []string{"USERS=pbxwatch", "GROUPS_PRESENT="}, "configure", "0.1.0")
	want := []string{"deb-systemd-helper enable pbxwatch.service"}
	if systemdRunning() {
		want = append(want, "deb-systemd-invoke try-restart pbxwatch.service")
	}
	expect(t, "upgrade", calls, want, []string{"useradd", "usermod", "deb-systemd-invoke start", "deb-systemd-invoke restart"})
	if out != "" {
		t.Errorf("upgrade prints the first-install message:\n%s", out)
	}

	_, calls = e.run(s["postinst"], []string{"USERS=pbxwatch", "GROUPS_PRESENT=", "WAS_ENABLED=1"}, "configure", "0.1.0")
	expect(t, "upgrade of a disabled service", calls, []string{"deb-systemd-helper update-state pbxwatch.service"},
		[]string{"deb-systemd-helper enable"})
}

func TestDebPrermAndPostrm(t *testing.T) {
	s := debScripts(t)
	e := newScriptEnv(t)

	_, calls := e.run(s["prerm"], nil, "upgrade", "0.2.0")
	expect(t, "prerm upgrade", calls, nil, []string{"deb-systemd-invoke stop"})
	_, calls = e.run(s["prerm"], nil, "remove")
	if systemdRunning() {
		expect(t, "prerm remove", calls, []string{"deb-systemd-invoke stop pbxwatch.service"}, nil)
	} else if len(calls) != 0 {
		t.Errorf("prerm remove without systemd ran %v", calls)
	}

	_, calls = e.run(s["postrm"], nil, "remove")
	expect(t, "postrm remove", calls, []string{"deb-systemd-helper mask pbxwatch.service"}, []string{"rm ", "userdel"})
	_, calls = e.run(s["postrm"], nil, "purge")
	expect(t, "postrm purge", calls,
		[]string{"deb-systemd-helper purge pbxwatch.service", "deb-systemd-helper unmask pbxwatch.service",
			"rm -rf /var/lib/pbxwatch", "rmdir /etc/pbxwatch/credentials"},
		[]string{"userdel", "rm -rf /etc/pbxwatch/credentials"})
}

func TestRPMScriptlets(t *testing.T) {
	s := rpmScripts(t)
	e := newScriptEnv(t)

	out, calls := e.run(s["post"], []string{"USERS=", "GROUPS_PRESENT=asterisk adm"}, "1")
	expect(t, "%post install", calls,
		[]string{"useradd --system --user-group --home-dir /var/lib/pbxwatch", "usermod -a -G asterisk pbxwatch",
			"systemctl --no-reload enable pbxwatch.service"},
		[]string{"usermod -a -G adm", "systemctl start", "systemctl try-restart"})
	if !strings.Contains(out, "NOT started") {
		t.Errorf("%%post install does not say the service is not started:\n%s", out)
	}
	out, calls = e.run(s["post"], []string{"USERS=pbxwatch", "GROUPS_PRESENT=asterisk"}, "2")
	expect(t, "%post upgrade", calls, []string{"usermod -a -G asterisk pbxwatch"}, []string{"useradd", "systemctl --no-reload enable"})
	if out != "" {
		t.Errorf("%%post upgrade prints the first-install message:\n%s", out)
	}

	_, calls = e.run(s["preun"], nil, "1")
	if len(calls) != 0 {
		t.Errorf("%%preun on upgrade ran %v", calls)
	}
	_, calls = e.run(s["preun"], nil, "0")
	expect(t, "%preun erase", calls, []string{"systemctl --no-reload disable pbxwatch.service"}, nil)

	_, calls = e.run(s["postun"], nil, "1")
	if systemdRunning() {
		expect(t, "%postun upgrade", calls, []string{"systemctl try-restart pbxwatch.service"}, nil)
	}
	_, calls = e.run(s["postun"], nil, "0")
	expect(t, "%postun erase", calls, nil, []string{"systemctl try-restart", "rm "})
}
