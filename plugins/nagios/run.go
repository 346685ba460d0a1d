package nagios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// exitGrace is how long stdout is still read after the plugin's own
// process exited: a child it forked may hold the pipe open forever.
const exitGrace = 200 * time.Millisecond

// Outcome is how one plugin run ended.
type Outcome struct {
	Stdout    string // bounded, valid UTF-8
	Stderr    string // bounded, valid UTF-8
	Truncated bool   // stdout was longer than the bound
	ExitCode  int    // -1 when there was none (signal, timeout, not started)
	Signal    string // the signal that ended it, if any
	TimedOut  bool
	StartErr  error // the command could not be started
	Duration  time.Duration
	// LeftChildren is set when a child still held stdout after the plugin
	// exited; its process group was killed.
	LeftChildren bool
}

// Command is what to run.
type Command struct {
	Path      string
	Args      []string
	Env       []string
	MaxOutput int
}

// Run runs cmd in its own process group until it exits or ctx ends; then
// the whole group is killed, so no child outlives the run.
func Run(ctx context.Context, c Command) Outcome {
	start := time.Now()
	out := Outcome{ExitCode: -1}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		out.StartErr = err
		return out
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		out.StartErr = err
		return out
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Stdin = nil // /dev/null
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	// The child has its copies; ours must go, or EOF never comes.
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		out.StartErr = err
		return out
	}
	stdoutDone := readBounded(stdoutR, c.MaxOutput)
	stderrDone := readBounded(stderrR, maxStderr)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var waitErr error
	select {
	case waitErr = <-exited:
	case <-ctx.Done():
		out.TimedOut = true
		killGroup(cmd.Process.Pid)
		waitErr = <-exited
	}
	out.Duration = time.Since(start)
	// Drain what the plugin printed before exiting. A pipe still open after
	// the grace period belongs to a child left behind: kill its group (the
	// leader is reaped, but the group lives while the child does).
	grace := time.NewTimer(exitGrace)
	defer grace.Stop()
	var so, se captured
	for stdoutDone != nil || stderrDone != nil {
		select {
		case so = <-stdoutDone:
			stdoutDone = nil
		case se = <-stderrDone:
			stderrDone = nil
		case <-grace.C:
			out.LeftChildren = true
			killGroup(cmd.Process.Pid)
			// The readers get EOF once the killed child's descriptors close.
		}
	}
	out.Stdout, out.Truncated = so.text, so.truncated
	out.Stderr = se.text
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		out.ExitCode = 0
	case errors.As(waitErr, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			out.Signal = ws.Signal().String()
		} else {
			out.ExitCode = exitErr.ExitCode()
		}
	default:
		out.StartErr = fmt.Errorf("wait: %w", waitErr)
	}
	return out
}

// maxStderr bounds what is kept of stderr, which only explains failures.
const maxStderr = 4 << 10

type captured struct {
	text      string
	truncated bool
}

// readBounded reads r to EOF keeping the first max bytes, as valid UTF-8.
func readBounded(r *os.File, max int) chan captured {
	done := make(chan captured, 1)
	go func() {
		defer r.Close()
		buf := make([]byte, 0, min(max, 8<<10))
		chunk := make([]byte, 8<<10)
		truncated := false
		for {
			n, err := r.Read(chunk)
			if n > 0 {
				room := max - len(buf)
				if n > room {
					truncated = true
					n = room
				}
				buf = append(buf, chunk[:n]...)
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					truncated = true
				}
				break
			}
		}
		done <- captured{text: validUTF8(buf), truncated: truncated}
	}()
	return done
}

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
