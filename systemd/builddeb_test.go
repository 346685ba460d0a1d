package systemd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildDeb builds the .deb of version into dir.
// TODO(9a): replaced by `make package` once packaging is on main.
func buildDeb(t *testing.T, version, dir string) string {
	t.Helper()
	cmd := exec.Command("/tmp/i9b/mkdeb.sh", version, dir)
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build deb: %v\n%s", err, b)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "pbxwatch_"+version+"*.deb"))
	if len(debs) != 1 {
		t.Fatalf("want one deb of %s in %s, got %v", version, dir, debs)
	}
	_ = os.Getenv
	return debs[0]
}
