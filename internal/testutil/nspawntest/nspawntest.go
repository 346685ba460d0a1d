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
	"os/exec"
	"strings"
)

// Tools are the host programs the harness runs.
var Tools = []string{"debootstrap", "systemd-nspawn", "nsenter"}

// Unavailable says why real-systemd tests cannot run here ("" when they can).
func Unavailable() string {
	if os.Geteuid() != 0 {
		return "not root (debootstrap and systemd-nspawn need root)"
	}
	var missing []string
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return "missing " + strings.Join(missing, ", ") + " (Debian packages debootstrap, systemd-container, util-linux)"
	}
	return ""
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
