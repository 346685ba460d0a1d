package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// agentRun is a `pbxwatch run` daemon process.
type agentRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startAgent(t *testing.T, agentBin, config string) *agentRun {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a := &agentRun{t: t, addr: addr, done: make(chan struct{})}
	a.cmd = exec.Command(agentBin, "run", "--config.file="+config, "--web.listen-address="+addr, "--shutdown.grace-period=5s", "--schedule.min-interval=1s")
	a.cmd.Stdout, a.cmd.Stderr = io.Discard, io.Discard
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() { a.stop(syscall.SIGKILL) })
	return a
}

func (a *agentRun) stop(sig syscall.Signal) {
	select {
	case <-a.done:
		return
	default:
	}
	a.cmd.Process.Signal(sig)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		a.cmd.Process.Kill()
		a.t.Errorf("agent did not stop on %v", sig)
	}
}

// sum adds up the samples of a metric family on /metrics (-1 when the
// agent does not answer or has not exported it yet).
func (a *agentRun) sum(name string) float64 {
	resp, err := http.Get("http://" + a.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total, found := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
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

// TestAgentRestartsWithLogrotate runs the real daemon with the logtail check
// every second while lines are written and logrotate rotates; the daemon is
// stopped with SIGTERM and killed with SIGKILL, with rotations while it is
// down. /metrics must end at exactly the lines written, never above.
func TestAgentRestartsWithLogrotate(t *testing.T) {
	lr := testutil.Tool(t, "logrotate")
	agentBin := sdktest.Build(t, "github.com/pbxwatch/pbxwatch/agent")
	pluginBin := sdktest.Build(t, pluginPkg)
	dir := t.TempDir()
	pluginDir, stateDir, logDir := filepath.Join(dir, "plugins"), filepath.Join(dir, "state"), filepath.Join(dir, "log")
	for _, d := range []string{pluginDir, stateDir, logDir} {
		os.Mkdir(d, 0o755)
	}
	if err := os.Symlink(pluginBin, filepath.Join(pluginDir, "pbxwatch-plugin-logtail")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(logDir, "freepbx.log")
	config := filepath.Join(dir, "pbxwatch.yml")
	cfg := fmt.Sprintf(`agent:
  state_dir: %s
  plugin_dir: %s
checks:
  - name: freepbx_log
    plugin: logtail
    schedule: "@every 1s"
    timeout: 10s
    config:
      path: %s
      start_at: beginning
`, stateDir, pluginDir, path)
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &numberedWriter{t: t, path: path}
	rot := newRotator(t, lr, dir, path, "  create 0644 root root\n  compress\n  delaycompress\n", w)

	// watch asserts the count never exceeds what was written.
	watch := func(a *agentRun, d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			w.write(25)
			if n := a.sum("logtail_lines_total"); n > float64(w.next) {
				t.Fatalf("agent reports %v lines, only %d written", n, w.next)
			}
		}
	}
	w.write(100)
	a := startAgent(t, agentBin, config)
	watch(a, 1500*time.Millisecond)
	rot.rotate()
	watch(a, 1500*time.Millisecond)
	a.stop(syscall.SIGTERM)

	w.write(100)
	rot.rotate()
	w.write(100)
	rot.rotate()
	w.write(100)
	a = startAgent(t, agentBin, config)
	watch(a, 1500*time.Millisecond)
	rot.rotate()
	watch(a, 700*time.Millisecond)
	a.stop(syscall.SIGKILL)

	w.write(100)
	rot.rotate()
	w.write(100)
	a = startAgent(t, agentBin, config)
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines, bytes := a.sum("logtail_lines_total"), a.sum("logtail_read_bytes_total")
		if lines == float64(w.next) && bytes == float64(w.bytes) {
			break
		}
		if lines > float64(w.next) || time.Now().After(deadline) {
			t.Fatalf("agent reports %v lines, %v bytes; written %d lines, %d bytes", lines, bytes, w.next, w.bytes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := a.sum("logtail_rotations_total"); r != float64(rot.runs) {
		t.Fatalf("%v rotations reported for %d logrotate runs", r, rot.runs)
	}
	t.Logf("%d lines written and counted through %d rotations and 2 daemon restarts", w.next, rot.runs)
}
