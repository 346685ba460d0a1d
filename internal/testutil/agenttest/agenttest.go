// Package agenttest is the one way a test runs the real pbxwatch binary:
// New installs it in a temporary directory laid out as the packages lay it
// out (agent, plugin directory, state directory, config file), WriteConfig
// writes its config, Run runs one command (`pbxwatch check`, `validate`,
// ...) and Start runs the daemon (`pbxwatch run`) on a free loopback port,
// debug logging captured, stopped when the test ends.
package agenttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// AgentPkg is the agent's main package.
const AgentPkg = "github.com/pbxwatch/pbxwatch/agent"

// Install is pbxwatch installed in a temporary directory.
type Install struct {
	t         testing.TB
	Dir       string
	Agent     string // the pbxwatch binary
	PluginDir string
	StateDir  string
	Config    string // the config file WriteConfig writes
	// Env is added to the test's environment for every Run and Start.
	Env []string
}

// New builds the agent and makes the directories of an installation.
func New(t testing.TB) *Install {
	t.Helper()
	dir := t.TempDir()
	in := &Install{
		t:         t,
		Dir:       dir,
		Agent:     sdktest.Build(t, AgentPkg),
		PluginDir: filepath.Join(dir, "plugins"),
		StateDir:  filepath.Join(dir, "state"),
		Config:    filepath.Join(dir, "pbxwatch.yml"),
	}
	if err := os.MkdirAll(in.PluginDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return in
}

// AddPlugin builds the main package pkg and installs it as plugin name
// (pbxwatch-plugin-<name> in the plugin directory); it returns the binary.
func (in *Install) AddPlugin(name, pkg string) string {
	in.t.Helper()
	bin := sdktest.Build(in.t, pkg)
	in.LinkPlugin(name, bin)
	return bin
}

// LinkPlugin installs the binary bin as plugin name.
func (in *Install) LinkPlugin(name, bin string) {
	in.t.Helper()
	if err := os.Symlink(bin, filepath.Join(in.PluginDir, "pbxwatch-plugin-"+name)); err != nil {
		in.t.Fatal(err)
	}
}

// WriteConfig writes the config file: an `agent:` section naming this
// installation's state and plugin directories (lines 1 to 3), then rest
// verbatim (`checks:`, `alerting:`, ...).
func (in *Install) WriteConfig(rest string) {
	in.t.Helper()
	cfg := fmt.Sprintf("agent:\n  state_dir: %s\n  plugin_dir: %s\n%s", in.StateDir, in.PluginDir, rest)
	if err := os.WriteFile(in.Config, []byte(cfg), 0o600); err != nil {
		in.t.Fatal(err)
	}
}

// Check is one entry of a config's `checks:` list.
type Check struct {
	Name, Plugin string
	Schedule     string // optional
	Timeout      string // optional
	// Config is the check's `config:` block, unindented YAML.
	Config string
}

// Checks renders a `checks:` section.
func Checks(checks ...Check) string {
	var b strings.Builder
	b.WriteString("checks:\n")
	for _, c := range checks {
		b.WriteString(c.YAML())
	}
	return b.String()
}

// YAML renders the entry, indented for a `checks:` list: name, plugin,
// schedule, timeout, then the config block, one key a line in that order.
func (c Check) YAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    plugin: %s\n", c.Name, c.Plugin)
	if c.Schedule != "" {
		fmt.Fprintf(&b, "    schedule: %q\n", c.Schedule)
	}
	if c.Timeout != "" {
		fmt.Fprintf(&b, "    timeout: %s\n", c.Timeout)
	}
	if c.Config != "" {
		b.WriteString("    config:\n")
		for _, line := range strings.Split(strings.TrimRight(c.Config, "\n"), "\n") {
			b.WriteString("      " + line + "\n")
		}
	}
	return b.String()
}

// Result is what one command printed and its exit code.
type Result struct {
	Stdout, Stderr string
	Exit           int
}

// Run runs `pbxwatch args...` to its end.
func (in *Install) Run(args ...string) Result {
	in.t.Helper()
	cmd := exec.Command(in.Agent, args...)
	cmd.Env = append(os.Environ(), in.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.Exit = exitErr.ExitCode()
	case err != nil:
		in.t.Fatalf("pbxwatch %v: %v", args, err)
	}
	return res
}

// Options adjust a started daemon.
type Options struct {
	// Args follow the defaults on the command line; a flag given here
	// replaces its default (the agent refuses a repeated flag).
	Args []string
	// Patience bounds WaitFor and the wait for readiness; default 30s.
	Patience time.Duration
	// NoWait returns at once instead of waiting for /-/ready.
	NoWait bool
}

// Daemon is a running `pbxwatch run`.
type Daemon struct {
	t        testing.TB
	cmd      *exec.Cmd
	addr     string
	logs     *Buffer
	done     chan struct{}
	patience time.Duration
}

// Start runs `pbxwatch run` on the config file with debug logging, a 2s
// shutdown grace period and a 1s minimum schedule, and waits until it is
// ready. The process is killed when the test ends if it still runs, and
// its log is shown if the test failed.
func (in *Install) Start(o Options) *Daemon {
	in.t.Helper()
	d := &Daemon{t: in.t, addr: FreeAddr(in.t), logs: &Buffer{}, done: make(chan struct{}), patience: o.Patience}
	if d.patience == 0 {
		d.patience = 30 * time.Second
	}
	args := []string{"run"}
	for _, flag := range []string{"--config.file=" + in.Config, "--web.listen-address=" + d.addr,
		"--log.level=debug", "--shutdown.grace-period=2s", "--schedule.min-interval=1s"} {
		if !overridden(flag, o.Args) {
			args = append(args, flag)
		}
	}
	for _, a := range o.Args {
		if addr, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			d.addr = addr
		}
	}
	d.cmd = exec.Command(in.Agent, append(args, o.Args...)...)
	d.cmd.Env = append(os.Environ(), in.Env...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	in.t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if in.t.Failed() {
			in.t.Logf("agent log:\n%s", d.logs)
		}
	})
	if !o.NoWait {
		d.WaitFor("ready", func() bool { _, code := d.Fetch("/-/ready"); return code == http.StatusOK })
	}
	return d
}

// overridden reports whether args set the flag of def ("--name=value").
func overridden(def string, args []string) bool {
	name, _, _ := strings.Cut(def, "=")
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// Addr is the host:port the daemon serves on.
func (d *Daemon) Addr() string { return d.addr }

// PID is the daemon's process id.
func (d *Daemon) PID() int { return d.cmd.Process.Pid }

// Done is closed when the daemon has exited.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Logs is everything the agent (and, relayed, its plugins) logged so far.
func (d *Daemon) Logs() string { return d.logs.String() }

// Fetch GETs path and returns the body and status code (0 while the agent
// does not answer).
func (d *Daemon) Fetch(path string) (string, int) {
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		return "", 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

// Get returns the body of a 200 answer to path, or "".
func (d *Daemon) Get(path string) string {
	body, code := d.Fetch(path)
	if code != http.StatusOK {
		return ""
	}
	return body
}

// Metric returns the value of the series on /metrics whose line starts
// with series (name and labels as exposed), or -1.
func (d *Daemon) Metric(series string) float64 {
	for _, line := range strings.Split(d.Get("/metrics"), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return v
			}
		}
	}
	return -1
}

// WaitFor polls cond until it holds; the test fails when the daemon
// exits first or after the daemon's patience, naming what it waited for.
func (d *Daemon) WaitFor(what string, cond func() bool) {
	d.t.Helper()
	d.poll(func() string {
		if cond() {
			return ""
		}
		return what
	})
}

// WaitForText polls path until its body holds every one of wants and
// returns that body; the test fails naming the first one still missing.
func (d *Daemon) WaitForText(path string, wants ...string) string {
	d.t.Helper()
	var body string
	d.poll(func() string {
		body = d.Get(path)
		for _, w := range wants {
			if !strings.Contains(body, w) {
				return fmt.Sprintf("%q on %s", w, path)
			}
		}
		return ""
	})
	return body
}

// poll calls missing until it returns "", failing the test when the
// daemon exits first or after its patience.
func (d *Daemon) poll(missing func() string) {
	d.t.Helper()
	deadline := time.Now().Add(d.patience)
	for {
		what := missing()
		if what == "" {
			return
		}
		select {
		case <-d.done:
			d.t.Fatalf("agent exited while waiting for %s:\n%s", what, d.logs)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out after %s waiting for %s", d.patience, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Signal sends sig to the daemon.
func (d *Daemon) Signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

// Wait waits up to timeout for the daemon to exit and returns its exit
// code.
func (d *Daemon) Wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		d.t.Fatalf("agent did not exit within %s", timeout)
		return -1
	}
}

// Stop sends SIGTERM and waits up to 10s for the daemon to exit.
func (d *Daemon) Stop() {
	d.t.Helper()
	d.Signal(syscall.SIGTERM)
	d.Wait(10 * time.Second)
}

// Kill sends SIGKILL (no clean-up, as a crash or the OOM killer) and waits
// for the process to be gone.
func (d *Daemon) Kill() {
	d.t.Helper()
	_ = d.cmd.Process.Kill()
	<-d.done
}

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
