// Package benchproc is what the side-by-side benchmark commands share:
// timing a command with its peak RSS, a process's peak RSS, warming the
// page cache, naming the CPU, generating a big input once.
package benchproc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Measure is one timed run.
type Measure struct {
	Name    string
	Seconds float64
	// CPUSeconds is the CPU time (user and system, every thread) the run
	// took: unlike Seconds, it barely moves with the machine's load.
	CPUSeconds float64
	RSSKiB     int64
	Note       string
}

// Time runs a command and measures it. Its peak RSS comes from
// /usr/bin/time: a child forked by this (Go, vfork-style) process would
// report this process's RSS as its own high-water mark, as Linux keeps it
// across exec. It returns the command's standard output.
func Time(env []string, name string, args ...string) (Measure, string, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "maxrss=%M", name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start).Seconds()
	if err != nil {
		return Measure{}, "", fmt.Errorf("%v: %s", err, tail(errb.String()))
	}
	// The rusage of /usr/bin/time includes that of the command it waited for.
	m := Measure{Seconds: elapsed, CPUSeconds: (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()}
	if i := strings.LastIndex(errb.String(), "maxrss="); i >= 0 {
		m.RSSKiB, _ = strconv.ParseInt(strings.TrimSpace(errb.String()[i+len("maxrss="):]), 10, 64)
	}
	return m, out.String(), nil
}

func tail(s string) string {
	if len(s) > 500 {
		return s[len(s)-500:]
	}
	return s
}

// VmHWM is a process's peak resident set size in KiB.
func VmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// CPUTime is the CPU time a running process has used so far: the sum
// over its threads of /proc/PID/task/TID/schedstat's time on CPU, in
// nanoseconds (the clock-tick counts of /proc/PID/stat are too coarse for
// runs of a tenth of a second).
func CPUTime(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

// Warm reads path once, so every tool reads it from the page cache.
func Warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// CPUName is the model name in /proc/cpuinfo.
func CPUName() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

// Generate writes at least size bytes with write to path, unless a file of
// that size is already there.
func Generate(path string, size int64, write func(io.Writer, int64) error) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() >= size {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w, size); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Median returns the run of median time.
func Median(ms []Measure) Measure {
	s := append([]Measure(nil), ms...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Seconds < s[j-1].Seconds; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}
