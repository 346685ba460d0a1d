package systemd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildDeb builds the .deb of version into dir with `make package`, in a
// build directory of its own so concurrent builds do not share bin/.
func buildDeb(t *testing.T, version, dir string) string {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", "package", "VERSION="+version, "DIST="+dir, "BIN="+t.TempDir())
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make package VERSION=%s: %v\n%s", version, err, b)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "pbxwatch_"+version+"*.deb"))
	if len(debs) != 1 {
		t.Fatalf("want one .deb of %s in %s, got %v", version, dir, debs)
	}
	return debs[0]
}
