package logtail

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

// sum adds up the samples of a metric family on /metrics (-1 when the
// agent does not answer or has not exported it yet).
func sum(d *agenttest.Daemon, name string) float64 {
	body, code := d.Fetch("/metrics")
	if code != 200 {
		return -1
	}
	total, found := 0.0, false
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			total, found = total+v, true
		}
	}
	if !found {
		return -1
	}
	return total
}

// stop signals the daemon and waits for it to exit.
func stop(d *agenttest.Daemon, sig syscall.Signal) {
	d.Signal(sig)
	d.Wait(15 * time.Second)
}

// TestAgentRestartsWithLogrotate runs the real daemon with the logtail check
// every second while lines are written and logrotate rotates; the daemon is
// stopped with SIGTERM and killed with SIGKILL, with rotations while it is
// down. /metrics must end at exactly the lines written, never above.
func TestAgentRestartsWithLogrotate(t *testing.T) {
	lr := testutil.Tool(t, "logrotate")
	in := agenttest.New(t)
	in.AddPlugin("logtail", pluginPkg)
	logDir := filepath.Join(in.Dir, "log")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(logDir, "freepbx.log")
	in.WriteConfig(agenttest.Checks(agenttest.Check{Name: "freepbx_log", Plugin: "logtail", Schedule: "@every 1s", Timeout: "10s",
		Config: "path: " + path + "\nstart_at: beginning\n"}))
	// The agent gets 5s to stop on SIGTERM, as in production.
	start := func() *agenttest.Daemon {
		return in.Start(agenttest.Options{Args: []string{"--shutdown.grace-period=5s"}})
	}
	w := &numberedWriter{t: t, path: path}
	rot := newRotator(t, lr, in.Dir, path, "  create 0644 root root\n  compress\n  delaycompress\n", w)

	// watch asserts the count never exceeds what was written.
	watch := func(a *agenttest.Daemon, d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			w.write(25)
			if n := sum(a, "logtail_lines_total"); n > float64(w.next) {
				t.Fatalf("agent reports %v lines, only %d written", n, w.next)
			}
		}
	}
	w.write(100)
	a := start()
	watch(a, 1500*time.Millisecond)
	rot.rotate()
	watch(a, 1500*time.Millisecond)
	stop(a, syscall.SIGTERM)

	w.write(100)
	rot.rotate()
	w.write(100)
	rot.rotate()
	w.write(100)
	a = start()
	watch(a, 1500*time.Millisecond)
	rot.rotate()
	watch(a, 700*time.Millisecond)
	stop(a, syscall.SIGKILL)

	w.write(100)
	rot.rotate()
	w.write(100)
	a = start()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines, bytes := sum(a, "logtail_lines_total"), sum(a, "logtail_read_bytes_total")
		if lines == float64(w.next) && bytes == float64(w.bytes) {
			break
		}
		if lines > float64(w.next) || time.Now().After(deadline) {
			t.Fatalf("agent reports %v lines, %v bytes; written %d lines, %d bytes", lines, bytes, w.next, w.bytes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := sum(a, "logtail_rotations_total"); r != float64(rot.runs) {
		t.Fatalf("%v rotations reported for %d logrotate runs", r, rot.runs)
	}
	t.Logf("%d lines written and counted through %d rotations and 2 daemon restarts", w.next, rot.runs)
}
