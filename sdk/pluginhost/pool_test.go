package pluginhost_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

const v1onlyPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/v1only"

// pooled is one check of a pool test: its host and its script.
type pooled struct {
	host     *pluginhost.Host
	script   string
	restarts *atomic.Int32
}

func (c *pooled) setScript(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile(c.script, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (c *pooled) run(timeout time.Duration) *sdk.Result {
	return c.host.Run(context.Background(), timeout)
}

// startIn starts check name of binary in pool, with a script of its own
// answering summary name.
func startIn(t *testing.T, pool *pluginhost.Pool, binary, name string, tweak func(*pluginhost.Spec)) *pooled {
	t.Helper()
	dir := t.TempDir()
	c := &pooled{script: filepath.Join(dir, "script.yaml"), restarts: &atomic.Int32{}}
	c.setScript(t, "status: OK\nsummary: "+name+"\n")
	spec := pluginhost.Spec{
		Check: name, Plugin: filepath.Base(binary), Binary: binary, StateDir: dir,
		ConfigYAML:        []byte("script_file: " + c.script + "\n"),
		Logger:            slog.New(slog.DiscardHandler),
		KillGrace:         500 * time.Millisecond,
		RestartBackoff:    time.Hour,
		MaxRestartBackoff: 2 * time.Hour,
		OnRestart:         func() { c.restarts.Add(1) },
		Pool:              pool,
	}
	if tweak != nil {
		tweak(&spec)
	}
	h, err := pluginhost.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(h.Close)
	c.host = h
	return c
}

func TestPoolRunsChecksOfOneBinaryInOneProcess(t *testing.T) {
	bin := buildtest.Build(t, scriptedPkg)
	pool := pluginhost.NewPool()
	a, b := startIn(t, pool, bin, "a", nil), startIn(t, pool, bin, "b", nil)
	if a.host.PID() == 0 || a.host.PID() != b.host.PID() {
		t.Fatalf("pids %d and %d, want one shared process", a.host.PID(), b.host.PID())
	}
	// Each check runs with its own config in its own Checker.
	for _, c := range []struct {
		p    *pooled
		want string
	}{{a, "a"}, {b, "b"}, {a, "a"}} {
		if r := c.p.run(5 * time.Second); r.Status != sdk.StatusOK || r.Summary != c.want {
			t.Fatalf("check %s: %v %q", c.want, r.Status, r.Summary)
		}
	}
	// A panic stays that check's UNKNOWN run; the process and the other
	// check carry on.
	pid := a.host.PID()
	a.setScript(t, "behave: panic\n")
	if r := a.run(5 * time.Second); r.Status != sdk.StatusUnknown || !strings.Contains(r.Summary, "scripted panic") {
		t.Fatalf("panic: %v %q", r.Status, r.Summary)
	}
	if r := b.run(5 * time.Second); r.Status != sdk.StatusOK || b.host.PID() != pid {
		t.Fatalf("after a's panic b: %v %q pid %d->%d", r.Status, r.Summary, pid, b.host.PID())
	}
}

func TestPoolStopsTheProcessWithItsLastCheck(t *testing.T) {
	bin := buildtest.Build(t, scriptedPkg)
	pool := pluginhost.NewPool()
	a, b := startIn(t, pool, bin, "a", nil), startIn(t, pool, bin, "b", nil)
	pid := a.host.PID()
	a.host.Close()
	if r := b.run(5 * time.Second); r.Status != sdk.StatusOK || !alive(pid) {
		t.Fatalf("b after a closed: %v %q alive=%v", r.Status, r.Summary, alive(pid))
	}
	b.host.Close()
	waitGone(t, pid)
}

func TestPoolKeepsV1PluginsOneProcessPerCheck(t *testing.T) {
	v1 := buildtest.Build(t, v1onlyPkg)
	v2 := buildtest.Build(t, scriptedPkg)
	pool := pluginhost.NewPool()
	old1, old2 := startIn(t, pool, v1, "old1", nil), startIn(t, pool, v1, "old2", nil)
	new1, new2 := startIn(t, pool, v2, "new1", nil), startIn(t, pool, v2, "new2", nil)
	if old1.host.PID() == old2.host.PID() {
		t.Fatalf("protocol 1 checks share process %d", old1.host.PID())
	}
	if new1.host.PID() != new2.host.PID() || new1.host.PID() == old1.host.PID() {
		t.Fatalf("pids v1 %d %d, v2 %d %d", old1.host.PID(), old2.host.PID(), new1.host.PID(), new2.host.PID())
	}
	for _, c := range []*pooled{old1, old2, new1, new2} {
		r := c.run(5 * time.Second)
		name := c.host.PID()
		if r.Status != sdk.StatusOK {
			t.Fatalf("pid %d: %v %q", name, r.Status, r.Summary)
		}
	}
	if r := old2.run(5 * time.Second); !strings.HasSuffix(r.Summary, "check old2") {
		t.Fatalf("v1 check old2 answered %q", r.Summary)
	}
	if r := new2.run(5 * time.Second); r.Summary != "new2" {
		t.Fatalf("v2 check new2 answered %q", r.Summary)
	}
}

func TestFaultSharedProcessCrashCostsItsChecksOneRunAndEachCountsTheRestart(t *testing.T) {
	bin := buildtest.Build(t, scriptedPkg)
	pool := pluginhost.NewPool()
	a, b := startIn(t, pool, bin, "a", nil), startIn(t, pool, bin, "b", nil)
	pid := a.host.PID()
	// b is mid-run when a's run takes the process down.
	b.setScript(t, "behave: sleep\nsleep: 10s\n")
	done := make(chan *sdk.Result)
	go func() { done <- b.run(20 * time.Second) }()
	time.Sleep(300 * time.Millisecond)
	a.setScript(t, "behave: exit\n")
	if r := a.run(5 * time.Second); code(r) != sdk.CodePluginCrashed {
		t.Fatalf("a: %q %q", code(r), r.Summary)
	}
	if r := <-done; r.Status != sdk.StatusUnknown || code(r) != sdk.CodePluginCrashed {
		t.Fatalf("b, running during the crash: %v %q %q", r.Status, code(r), r.Summary)
	}
	waitGone(t, pid)
	// The next runs start one new process (no backoff after one crash) and
	// configure both checks in it again.
	a.setScript(t, "status: OK\nsummary: a\n")
	b.setScript(t, "status: OK\nsummary: b\n")
	if r := a.run(5 * time.Second); r.Summary != "a" {
		t.Fatalf("a after the crash: %v %q", r.Status, r.Summary)
	}
	if r := b.run(5 * time.Second); r.Summary != "b" {
		t.Fatalf("b after the crash: %v %q", r.Status, r.Summary)
	}
	if a.host.PID() == pid || a.host.PID() != b.host.PID() {
		t.Fatalf("pids %d -> a %d b %d", pid, a.host.PID(), b.host.PID())
	}
	// Both lost their process (and b its run): each check counts the one
	// restart, not only the check whose run started the new process.
	if ra, rb := a.restarts.Load(), b.restarts.Load(); ra != 1 || rb != 1 {
		t.Fatalf("restarts a=%d b=%d, want 1 each", ra, rb)
	}
}

func TestIsolatedCheckKeepsItsOwnProcess(t *testing.T) {
	bin := buildtest.Build(t, scriptedPkg)
	pool := pluginhost.NewPool()
	a := startIn(t, pool, bin, "a", nil)
	alone := startIn(t, pool, bin, "alone", func(s *pluginhost.Spec) { s.Isolate = true })
	if a.host.PID() == alone.host.PID() {
		t.Fatal("isolated check shares its plugin's process")
	}
	alone.setScript(t, "behave: exit\n")
	alone.run(5 * time.Second)
	if r := a.run(5 * time.Second); r.Status != sdk.StatusOK || a.restarts.Load() != 0 {
		t.Fatalf("a after the isolated check crashed: %v %q restarts %d", r.Status, r.Summary, a.restarts.Load())
	}
}

func TestChecksWithOtherHiddenEnvDoNotShare(t *testing.T) {
	bin := buildtest.Build(t, scriptedPkg)
	pool := pluginhost.NewPool()
	a := startIn(t, pool, bin, "a", func(s *pluginhost.Spec) { s.HideEnv = []string{"B_TOKEN"} })
	b := startIn(t, pool, bin, "b", func(s *pluginhost.Spec) { s.HideEnv = []string{"A_TOKEN"} })
	c := startIn(t, pool, bin, "c", func(s *pluginhost.Spec) { s.HideEnv = []string{"B_TOKEN"} })
	if a.host.PID() == b.host.PID() || a.host.PID() != c.host.PID() {
		t.Fatalf("pids a %d b %d c %d: want a and c together, b apart", a.host.PID(), b.host.PID(), c.host.PID())
	}
}

// A reload starts the new checks in the running process before the old
// ones are closed: a run in progress completes, and its process stays.
func TestReloadInPoolKeepsRunningRun(t *testing.T) {
	bin := buildtest.Build(t, scriptedPkg)
	pool := pluginhost.NewPool()
	old := startIn(t, pool, bin, "a", nil)
	pid := old.host.PID()
	old.setScript(t, "behave: sleep\nsleep: 2s\nstatus: OK\nsummary: long run\n")
	done := make(chan *sdk.Result)
	go func() { done <- old.run(10 * time.Second) }()
	time.Sleep(300 * time.Millisecond)
	reloaded := startIn(t, pool, bin, "a", nil) // the new configuration's check
	r := <-done
	old.host.Close()
	if r.Status != sdk.StatusOK || r.Summary != "long run" {
		t.Fatalf("run across the reload: %v %q %q", r.Status, code(r), r.Summary)
	}
	if r := reloaded.run(5 * time.Second); r.Status != sdk.StatusOK || reloaded.host.PID() != pid {
		t.Fatalf("after reload: %v %q pid %d -> %d", r.Status, r.Summary, pid, reloaded.host.PID())
	}
}
