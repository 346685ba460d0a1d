package packaging_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/nspawntest"
)

// image is the real-systemd test's Debian 12 tree (same packages, so one
// cached bootstrap serves both).
var image = nspawntest.Image{Suite: "bookworm", Packages: []string{"systemd", "systemd-sysv", "dbus", "procps"}}

// debianRoot returns a private copy of a bootstrapped Debian 12 tree: a
// chroot, where systemd is not running, as in a container or an installer.
func debianRoot(t *testing.T) string {
	t.Helper()
	nspawntest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cached, err := image.Root(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root")
	run(t, ".", nil, "cp", "-a", cached, root)
	return root
}

// inRoot runs a shell script chrooted into root and returns its output.
func inRoot(t *testing.T, root, script string) string {
	t.Helper()
	cmd := exec.Command("chroot", root, "/bin/sh", "-c", "set -e\n"+script)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in the chroot:\n%s\n%v\n%s", script, err, out)
	}
	return string(out)
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: %q missing from:\n%s", what, w, out)
		}
	}
}

// TestDebInChrootWithoutSystemd installs, reinstalls, removes and purges the
// .deb with dpkg in a Debian 12 chroot: no systemd runs there, so the
// scripts must still make the user and directories and enable the unit.
func TestDebInChrootWithoutSystemd(t *testing.T) {
	_, deb, _ := makePackage(t)
	root := debianRoot(t)
	run(t, ".", nil, "cp", deb, filepath.Join(root, "tmp", "pbxwatch.deb"))

	out := inRoot(t, root, `groupadd --system asterisk
dpkg -i /tmp/pbxwatch.deb
echo "--- user"; id -nG pbxwatch; getent passwd pbxwatch
echo "--- dirs"; stat -c '%n %U:%G %a' /var/lib/pbxwatch /etc/pbxwatch/credentials /etc/pbxwatch/pbxwatch.yaml
echo "--- enabled"; readlink /etc/systemd/system/multi-user.target.wants/pbxwatch.service
echo "--- validate"; pbxwatch validate`)
	mustContain(t, "install", out,
		"NOT started", "sudo systemctl start pbxwatch",
		"pbxwatch:x:", ":/var/lib/pbxwatch:/usr/sbin/nologin",
		"/var/lib/pbxwatch pbxwatch:pbxwatch 750", "/etc/pbxwatch/credentials root:pbxwatch 750", "/etc/pbxwatch/pbxwatch.yaml root:root 644",
		"/lib/systemd/system/pbxwatch.service", "1 checks, configuration valid")
	groups := out[strings.Index(out, "--- user"):strings.Index(out, "--- dirs")]
	mustContain(t, "groups", groups, "asterisk", "adm")

	out = inRoot(t, root, `echo '# edited by the operator' >> /etc/pbxwatch/pbxwatch.yaml
dpkg -i /tmp/pbxwatch.deb
tail -n 1 /etc/pbxwatch/pbxwatch.yaml`)
	mustContain(t, "reinstall", out, "# edited by the operator")
	if strings.Contains(out, "NOT started") {
		t.Errorf("a reinstall repeats the first-install message:\n%s", out)
	}

	out = inRoot(t, root, `echo s3cr3t > /etc/pbxwatch/credentials/whmcs.secret
dpkg -r pbxwatch
echo "--- after remove"; readlink /etc/systemd/system/pbxwatch.service; ls -d /var/lib/pbxwatch /etc/pbxwatch/pbxwatch.yaml
test ! -e /usr/bin/pbxwatch && echo binary-gone
dpkg -P pbxwatch 2>&1
echo "--- after purge"; ls -d /var/lib/pbxwatch /etc/pbxwatch/pbxwatch.yaml /etc/systemd/system/pbxwatch.service 2>&1 || true
ls /etc/pbxwatch/credentials; id pbxwatch`)
	mustContain(t, "remove and purge", out,
		"/dev/null", "/var/lib/pbxwatch\n", "binary-gone",
		"kept /etc/pbxwatch/credentials",
		"cannot access '/var/lib/pbxwatch'", "cannot access '/etc/pbxwatch/pbxwatch.yaml'", "cannot access '/etc/systemd/system/pbxwatch.service'",
		"whmcs.secret", "uid=")
}

// TestRPMScriptletsInChroot installs and erases the .rpm with rpm --root in
// the Debian tree, stripped of systemd-sysusers and systemd-tmpfiles: the
// scriptlets run for real, down their fallback paths (useradd, install -d),
// with no systemd running.
func TestRPMScriptletsInChroot(t *testing.T) {
	testutil.Tool(t, "rpm")
	_, _, rpm := makePackage(t)
	root := debianRoot(t)
	for _, tool := range []string{"usr/bin/systemd-sysusers", "usr/bin/systemd-tmpfiles"} {
		if err := os.Remove(filepath.Join(root, tool)); err != nil {
			t.Fatal(err)
		}
	}
	inRoot(t, root, "groupadd --system asterisk")
	run(t, ".", nil, "rpm", "--root", root, "--initdb")
	out := run(t, ".", nil, "rpm", "--root", root, "-i", "--nodeps", rpm)
	mustContain(t, "rpm install", out, "NOT started")
	out = inRoot(t, root, `id -nG pbxwatch; getent passwd pbxwatch
stat -c '%n %U:%G %a' /var/lib/pbxwatch /etc/pbxwatch/credentials
readlink /etc/systemd/system/multi-user.target.wants/pbxwatch.service`)
	mustContain(t, "rpm install", out, "asterisk", "pbxwatch monitoring agent:/var/lib/pbxwatch:",
		"/var/lib/pbxwatch pbxwatch:pbxwatch 750", "/etc/pbxwatch/credentials root:pbxwatch 750", "pbxwatch.service")
	if strings.Contains(strings.Split(out, "\n")[0], "adm") {
		t.Errorf("the .rpm added pbxwatch to adm (Debian's group for logs only):\n%s", out)
	}

	run(t, ".", nil, "rpm", "--root", root, "-e", "--nodeps", "pbxwatch")
	out = inRoot(t, root, `ls -d /var/lib/pbxwatch /etc/pbxwatch/credentials
test ! -e /etc/systemd/system/multi-user.target.wants/pbxwatch.service && echo disabled
test ! -e /usr/bin/pbxwatch && echo binary-gone`)
	mustContain(t, "rpm erase", out, "/var/lib/pbxwatch", "/etc/pbxwatch/credentials", "disabled", "binary-gone")
}
