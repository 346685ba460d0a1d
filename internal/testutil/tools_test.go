package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// checkDepsEntry is one `"program:package"` line of the need=( ... ) list
// in scripts/check-test-deps.sh.
var checkDepsEntry = regexp.MustCompile(`(?m)^\s*"([^":]+):([^"]+)"\s*$`)

// TestCheckTestDepsListsEveryTool: the script `make test` runs first and
// Tools name the same programs with the same Debian packages, so a
// program a test needs is never missing from the up-front list (or the
// other way round).
func TestCheckTestDepsListsEveryTool(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "check-test-deps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := map[string]string{}
	for _, m := range checkDepsEntry.FindAllStringSubmatch(string(b), -1) {
		script[filepath.Base(m[1])] = m[2]
	}
	if len(script) == 0 {
		t.Fatal("no \"program:package\" entries found in scripts/check-test-deps.sh")
	}
	for name, pkg := range Tools {
		if got, ok := script[name]; !ok || got != pkg {
			t.Errorf("scripts/check-test-deps.sh: want an entry for %s (Debian package %s), have %q", name, pkg, got)
		}
	}
	for name, pkg := range script {
		if _, ok := Tools[name]; !ok {
			t.Errorf("scripts/check-test-deps.sh lists %s (%s), which testutil.Tools lacks", name, pkg)
		}
	}
}

func TestToolFindsAnInstalledProgram(t *testing.T) {
	Tools["sh"] = "dash"
	defer delete(Tools, "sh")
	if p := Tool(t, "sh"); filepath.Base(p) != "sh" {
		t.Fatalf("Tool(sh) = %q", p)
	}
}

// TestUnavailable runs the rule in a child test and reads its outcome:
// a failure by default, a skip with PBXWATCH_SKIP_INTEGRATION, a failure
// again under CI=true.
func TestUnavailable(t *testing.T) {
	for _, c := range []struct {
		name, skipVar, ci string
		wantSkip          bool
	}{
		{"default fails", "", "", false},
		{"opt-out skips", "1", "", true},
		{"CI ignores the opt-out", "1", "true", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PBXWATCH_SKIP_INTEGRATION", c.skipVar)
			t.Setenv("CI", c.ci)
			rec := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Unavailable(rec, "frobnicator is not installed: install the Debian package frob")
			}()
			<-done
			if rec.skipped != c.wantSkip || rec.failed == c.wantSkip {
				t.Fatalf("skipped=%v failed=%v, want skip=%v: %q", rec.skipped, rec.failed, c.wantSkip, rec.msg)
			}
			if !regexp.MustCompile(`Debian package frob`).MatchString(rec.msg) {
				t.Fatalf("message does not name the package: %q", rec.msg)
			}
		})
	}
}

// recorder stands in for the testing.TB of a test that Unavailable ends:
// it records Skip and Fatal and ends the goroutine as they would.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
