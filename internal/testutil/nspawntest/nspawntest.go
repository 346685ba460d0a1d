// Package nspawntest boots a real Debian system under systemd-nspawn for
// tests that need real systemd: it bootstraps the tree with debootstrap
// (cached between runs of the same machine), boots it ephemerally and runs
// commands inside with nsenter. Test support only; needs root.
package nspawntest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

// Tools are the host programs the harness runs.
var Tools = []string{"debootstrap", "systemd-nspawn", "nsenter"}

// Require applies the test rules to a test that boots or bootstraps a
// Debian tree: `go test -short` skips it (testutil.Slow); a missing program
// fails it naming its Debian package (testutil.Tool); not being root skips
// it, unless the environment demands the test (Required), where it fails.
func Require(t testing.TB) {
	t.Helper()
	testutil.Slow(t, "debootstrap and systemd-nspawn")
	for _, tool := range Tools {
		testutil.Tool(t, tool)
	}
	if os.Geteuid() != 0 {
		const why = "not root (debootstrap and systemd-nspawn need root)"
		if Required() {
			t.Fatalf("this test must run here (CI or PBXWATCH_REQUIRE_SYSTEMD_TEST=1) but cannot: %s", why)
		}
		t.Skipf("SKIPPED: %s", why)
	}
}

// Required reports whether the environment demands the real-systemd tests
// (CI, or PBXWATCH_REQUIRE_SYSTEMD_TEST=1), so a test fails instead of skipping.
func Required() bool {
	return os.Getenv("PBXWATCH_REQUIRE_SYSTEMD_TEST") == "1" || os.Getenv("CI") == "true"
}

// Image describes a bootstrapped tree.
type Image struct {
	Suite    string   // e.g. bookworm
	Packages []string // besides the minbase variant
	// CacheDir keeps bootstrapped trees between runs; default
	// /var/cache/pbxwatch-test.
	CacheDir string
}

// key names the cached tree: the suite and a digest of the package list.
func (im Image) key() string {
	sum := sha256.Sum256([]byte(im.Suite + "\n" + strings.Join(im.Packages, ",")))
	return im.Suite + "-" + hex.EncodeToString(sum[:6])
}

func (im Image) cacheDir() string {
	if im.CacheDir != "" {
		return im.CacheDir
	}
	return "/var/cache/pbxwatch-test"
}

// errNotCached is returned by cached when no complete tree exists yet.
var errNotCached = errors.New("not cached")

// cached returns the cached tree's path, if a complete one exists (a
// bootstrap that was interrupted never got its final name).
func (im Image) cached() (string, error) {
	dir := fmt.Sprintf("%s/%s", im.cacheDir(), im.key())
	if _, err := os.Stat(dir + "/usr/lib/systemd/systemd"); err != nil {
		return "", errNotCached
	}
	return dir, nil
}
