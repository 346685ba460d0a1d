// Package agenttest runs the real `pbxwatch run` daemon from a Go test: on a
// free loopback port, debug logging captured, stopped with SIGTERM. Plugin
// packages use it to see their plugin the way the daemon serves it.
package agenttest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Daemon is a running `pbxwatch run`.
type Daemon struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	logs *Buffer
	done chan struct{}
}

// Run starts agent (the pbxwatch binary) on configFile with env added to
// the test's environment. The process is killed when the test ends if it
// is still running.
func Run(t testing.TB, agent, configFile string, env ...string) *Daemon {
	t.Helper()
	d := &Daemon{t: t, addr: FreeAddr(t), logs: &Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(agent, "run", "--config.file="+configFile, "--web.listen-address="+d.addr,
		"--log.level=debug", "--shutdown.grace-period=2s", "--schedule.min-interval=1s")
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// Get returns the body of a 200 answer to path, or "" while the agent is
// not (yet) serving it.
func (d *Daemon) Get(path string) string {
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// WaitFor polls cond until it holds, failing the test after 30s or when the
// agent exits first. cond returns what it still misses, "" when satisfied.
func (d *Daemon) WaitFor(cond func() (missing string)) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing := cond()
		if missing == "" {
			return
		}
		select {
		case <-d.done:
			d.t.Fatalf("agent exited while waiting for %s:\n%s", missing, d.logs)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s\nagent log:\n%s", missing, d.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits up to 10s for the agent to exit.
func (d *Daemon) Stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.t.Fatalf("agent did not stop on SIGTERM:\n%s", d.logs)
	}
}

// Kill sends SIGKILL (no clean-up, as a crash or the OOM killer) and waits
// for the process to be gone.
func (d *Daemon) Kill() {
	d.t.Helper()
	_ = d.cmd.Process.Kill()
	<-d.done
}

// Addr is the agent's listen address (host:port).
func (d *Daemon) Addr() string { return d.addr }

// Logs is everything the agent (and, relayed, its plugins) logged so far.
func (d *Daemon) Logs() string { return d.logs.String() }

// FreeAddr returns a loopback address with a port free at the time of the
// call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Buffer collects a process's output while a test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
