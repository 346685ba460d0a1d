package nspawntest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Root returns a bootstrapped tree for im, running debootstrap from the
// machine's configured mirror when no cached tree exists. The tree is built
// under a temporary name and renamed when complete, so an interrupted or
// concurrent bootstrap never leaves a half tree under the final name.
// logf receives progress (t.Logf).
func (im Image) Root(ctx context.Context, logf func(string, ...any)) (string, error) {
	if dir, err := im.cached(); err == nil {
		logf("nspawntest: using cached %s", dir)
		return dir, nil
	}
	mirror, err := Mirror(im.Suite)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(im.cacheDir(), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(im.cacheDir(), ".bootstrap-"+im.key()+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	args := []string{"--variant=minbase"}
	if len(im.Packages) > 0 {
		args = append(args, "--include="+strings.Join(im.Packages, ","))
	}
	args = append(args, im.Suite, tmp, mirror)
	logf("nspawntest: debootstrap %s (no cached tree)", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("debootstrap: %w\n%s", err, tail(out, 4000))
	}
	if err := prepareTree(tmp); err != nil {
		return "", err
	}
	final := filepath.Join(im.cacheDir(), im.key())
	if err := os.Rename(tmp, final); err != nil {
		if dir, cerr := im.cached(); cerr == nil { // another run finished first
			return dir, nil
		}
		return "", fmt.Errorf("keep bootstrapped tree: %w", err)
	}
	return final, nil
}

// prepareTree makes the tree boot quietly and fast as a container: no
// getty on a console nobody reads, a machine-id set at each boot, and no
// apt timers waking up during a test.
func prepareTree(root string) error {
	for _, unit := range []string{
		"etc/systemd/system/getty.target.wants/getty@tty1.service",
		"etc/systemd/system/timers.target.wants/apt-daily.timer",
		"etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer",
	} {
		if err := os.Remove(filepath.Join(root, unit)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	// Empty machine-id: systemd makes a transient one at boot.
	return os.WriteFile(filepath.Join(root, "etc/machine-id"), nil, 0o444)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
