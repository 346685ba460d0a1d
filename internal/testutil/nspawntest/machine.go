package nspawntest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Machine is a booted container.
type Machine struct {
	Name   string
	nspawn *exec.Cmd
	leader int // the container's PID 1 (systemd), as seen from the host
	exited chan struct{}

	consoleMu sync.Mutex
	console   bytes.Buffer
}

// BootOptions tune Boot.
type BootOptions struct {
	// BindRO maps host paths to container paths, read-only.
	BindRO map[string]string
	// Timeout bounds the boot; default 90s.
	Timeout time.Duration
}

// Boot starts root ephemerally (changes vanish at exit) with the host's
// network, and waits until its systemd reports the system running. The
// caller must Close it (t.Cleanup).
func Boot(ctx context.Context, root string, opts BootOptions) (*Machine, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 90 * time.Second
	}
	m := &Machine{Name: uniqueName(), exited: make(chan struct{})}
	args := []string{
		"--quiet", "--ephemeral", "--boot", "--directory=" + root, "--machine=" + m.Name,
		// No machined or bus on a test host: run in our own cgroup, unregistered.
		"--register=no", "--keep-unit", "--console=pipe",
	}
	for host, guest := range opts.BindRO {
		args = append(args, "--bind-ro="+host+":"+guest)
	}
	m.nspawn = exec.Command("systemd-nspawn", args...)
	// If the test binary dies (a go test timeout), nspawn is told to power
	// the container off and delete its ephemeral copy.
	m.nspawn.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	m.nspawn.Stdout = (*lockedWriter)(m)
	m.nspawn.Stderr = (*lockedWriter)(m)
	if err := m.nspawn.Start(); err != nil {
		return nil, fmt.Errorf("systemd-nspawn: %w", err)
	}
	go func() { _ = m.nspawn.Wait(); close(m.exited) }()

	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := m.waitLeader(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.waitRunning(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func uniqueName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "pbxwatch-test-" + hex.EncodeToString(b)
}

// waitLeader finds the container's systemd: nspawn's child once it has
// exec'd systemd.
func (m *Machine) waitLeader(ctx context.Context) error {
	pid := m.nspawn.Process.Pid
	for {
		for _, child := range children(pid) {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child)); strings.TrimSpace(string(comm)) == "systemd" {
				m.leader = child
				return nil
			}
		}
		select {
		case <-m.exited:
			return fmt.Errorf("systemd-nspawn exited during boot:\n%s", m.Console())
		case <-ctx.Done():
			return fmt.Errorf("container's systemd did not start: %w\n%s", ctx.Err(), m.Console())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func children(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// waitRunning waits until systemd has finished booting ("running", or
// "degraded" when some unrelated unit failed; the container's failed units
// are logged to help the reader).
func (m *Machine) waitRunning(ctx context.Context) error {
	for {
		out, _ := m.Run(ctx, "systemctl", "is-system-running")
		state := strings.TrimSpace(out)
		switch state {
		case "running":
			return nil
		case "degraded":
			return nil
		}
		select {
		case <-m.exited:
			return fmt.Errorf("container exited during boot:\n%s", m.Console())
		case <-ctx.Done():
			return fmt.Errorf("container did not finish booting (state %q): %w\n%s", state, ctx.Err(), m.Console())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Leader is the container's PID 1 as seen from the host.
func (m *Machine) Leader() int { return m.leader }

// Run runs a command inside the container (all its namespaces, root) and
// returns its combined output.
func (m *Machine) Run(ctx context.Context, name string, args ...string) (string, error) {
	return m.RunInput(ctx, nil, name, args...)
}

// RunInput is Run with stdin.
func (m *Machine) RunInput(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	full := append([]string{"--target", strconv.Itoa(m.leader), "--all", "--", name}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Shell runs a POSIX shell script inside the container.
func (m *Machine) Shell(ctx context.Context, script string) (string, error) {
	return m.RunInput(ctx, []byte(script), "/bin/sh", "-eu")
}

// WriteFile writes a file inside the container.
func (m *Machine) WriteFile(ctx context.Context, path string, data []byte, mode os.FileMode, owner string) error {
	script := fmt.Sprintf("umask 077; cat > %q; chmod %o %q; chown %s %q", path, mode.Perm(), path, owner, path)
	_, err := m.RunInput(ctx, data, "/bin/sh", "-euc", script)
	return err
}

// Console is what the container printed on its console so far.
func (m *Machine) Console() string {
	m.consoleMu.Lock()
	defer m.consoleMu.Unlock()
	return tail(m.console.Bytes(), 8000)
}

// Close powers the container off (SIGTERM to nspawn asks its systemd to
// halt), waits up to 30s, then kills what is left: nspawn and, through the
// container's PID 1, every process of its PID namespace. nspawn removes the
// ephemeral copy when it exits.
func (m *Machine) Close() {
	if m.nspawn == nil || m.nspawn.Process == nil {
		return
	}
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.nspawn.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
		return
	case <-time.After(30 * time.Second):
	}
	if m.leader > 0 {
		_ = syscall.Kill(m.leader, syscall.SIGKILL)
	}
	_ = m.nspawn.Process.Kill()
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
	}
}

// Exited reports whether nspawn has exited (tests assert Close cleans up).
func (m *Machine) Exited() bool {
	select {
	case <-m.exited:
		return true
	default:
		return false
	}
}

type lockedWriter Machine

func (w *lockedWriter) Write(p []byte) (int, error) {
	m := (*Machine)(w)
	m.consoleMu.Lock()
	defer m.consoleMu.Unlock()
	if m.console.Len() > 1<<20 { // bounded: keep the tail
		m.console.Next(m.console.Len() - 1<<19)
	}
	return m.console.Write(p)
}
