// Package testutil holds the rules every test of this repository follows:
// what happens when a program a test needs is missing, and which tests the
// fast tier (`go test -short`) leaves out. The harnesses that start real
// servers or the agent live in its subpackages (agenttest, apachetest,
// fakelog, mariadbtest, nspawntest). Test support only: no production
// binary may link it (TestProductionBinariesLinkNoTestSupport).
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tools names every program the tests run and the Debian package that
// installs it. scripts/check-test-deps.sh, which `make test` runs first,
// lists the same programs (TestCheckTestDepsListsEveryTool).
var Tools = map[string]string{
	"prometheus":              "prometheus",
	"promtool":                "prometheus",
	"victoria-metrics":        "victoria-metrics",
	"prometheus-alertmanager": "prometheus-alertmanager",
	"amtool":                  "prometheus-alertmanager",
	"logrotate":               "logrotate",
	"make":                    "make",
	"dpkg-deb":                "dpkg",
	"check_dummy":             "monitoring-plugins-basic",
	"mariadbd":                "mariadb-server",
	"mariadb-install-db":      "mariadb-server",
	"apache2":                 "apache2",
	"chromium":                "chromium",
	"python3":                 "python3",
	"debootstrap":             "debootstrap",
	"systemd-nspawn":          "systemd-container",
	"nsenter":                 "util-linux",
	"systemd-analyze":         "systemd",
	"lintian":                 "lintian",
	"rpm":                     "rpm",
	"rpm2cpio":                "rpm",
}

// searchDirs are looked in after PATH: a non-root PATH often lacks the
// sbin directories, and the Nagios plugins are never on PATH.
var searchDirs = []string{"/usr/sbin", "/sbin", "/usr/lib/nagios/plugins"}

// Tool returns the path of the program name (a key of Tools). A missing
// program is reported by Unavailable, naming its Debian package.
func Tool(t testing.TB, name string) string {
	t.Helper()
	pkg, ok := Tools[name]
	if !ok {
		t.Fatalf("testutil.Tool(%q): not in testutil.Tools; add it there and to scripts/check-test-deps.sh with its Debian package", name)
	}
	if path, found := lookTool(name); found {
		return path
	}
	Unavailable(t, fmt.Sprintf("%s is not installed: install the Debian package %s (sudo apt-get install %s)", name, pkg, pkg))
	return ""
}

func lookTool(name string) (string, bool) {
	if path, err := exec.LookPath(name); err == nil {
		return path, true
	}
	for _, dir := range searchDirs {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return path, true
		}
	}
	return "", false
}

// Unavailable is the one rule for "something this test needs is not
// here" (a program, a Python module, a server that cannot start): the
// test FAILS with why, which names the Debian package to install, so that
// a missing package is never mistaken for a passing test. Setting
// PBXWATCH_SKIP_INTEGRATION=1 turns the failure into a skip that says
// why, except under CI=true, where nothing the tests need may be missing.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if SkipIntegration() {
		t.Skip("SKIPPED (PBXWATCH_SKIP_INTEGRATION is set): " + why)
	}
	t.Fatal(why + skipHint())
}

// SkipIntegration reports whether missing programs skip rather than fail
// the tests that need them.
func SkipIntegration() bool {
	return os.Getenv("PBXWATCH_SKIP_INTEGRATION") != "" && !InCI()
}

// InCI reports whether the tests run under CI (CI=true, as .ci/run's
// environments set it).
func InCI() bool { return os.Getenv("CI") == "true" }

func skipHint() string {
	if InCI() {
		return " (CI=true: every program the tests need must be installed)"
	}
	return " (or set PBXWATCH_SKIP_INTEGRATION=1 to skip the tests that need it)"
}

// Slow marks an integration test that starts a real server, a browser, a
// container or builds packages: `go test -short` skips it, so that the
// edit-test loop stays fast. `make test` never passes -short.
func Slow(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow integration test (" + strings.TrimSpace(what) + "): skipped in -short mode; make test runs it")
	}
}
