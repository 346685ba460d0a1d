// Package stormtest is test support: a writer that logs numbered lines
// fast while rotating its file the numbered way (.1, .2, … every rotation
// shifting every number, the writer still writing to the renamed file for
// a moment, as a daemon does until it is told to reopen), and CPU burners
// that make the machine as busy as the races need. The tail package's
// tests and the fault suite drive the log plugins with it.
package stormtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Config describes a storm.
type Config struct {
	Path string
	// Rate is lines per second; Every is the rotation period.
	Rate  int
	Every time.Duration
	// Linger is how long the writer keeps writing to the renamed file
	// after a rotation before it reopens the path.
	Linger time.Duration
	// Keep is how many numbered files are kept (the oldest is deleted, as
	// logrotate's rotate N does); 0 keeps them all.
	Keep int
	// Line returns line n (from 1), ending in a newline.
	Line func(n int) string
}

// Storm is a running writer and rotator.
type Storm struct {
	cfg       Config
	written   atomic.Int64
	rotations atomic.Int64
	stop      chan struct{}
	wg        sync.WaitGroup
	reopen    chan struct{}
	err       atomic.Pointer[error]
}

// Start begins writing cfg.Path (created) and rotating it.
func Start(t testing.TB, cfg Config) *Storm {
	s := &Storm{cfg: cfg, stop: make(chan struct{}), reopen: make(chan struct{}, 1)}
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s.wg.Add(2)
	go s.write(f)
	go s.rotate()
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Storm) fail(err error) {
	s.err.CompareAndSwap(nil, &err)
}

// write appends lines at the configured rate, catching up after a stall
// in one write of many lines, as a busy daemon's buffered writer does.
func (s *Storm) write(f *os.File) {
	defer s.wg.Done()
	defer func() { f.Close() }()
	began := time.Now()
	var buf []byte
	var reopenAt time.Time
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.reopen:
			reopenAt = time.Now().Add(s.cfg.Linger)
		case <-tick.C:
		}
		if !reopenAt.IsZero() && !time.Now().Before(reopenAt) {
			nf, err := os.OpenFile(s.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				s.fail(err)
				return
			}
			f.Close()
			f, reopenAt = nf, time.Time{}
		}
		due := int64(time.Since(began).Seconds()*float64(s.cfg.Rate)) - s.written.Load()
		if due > int64(s.cfg.Rate/10)+1 {
			due = int64(s.cfg.Rate/10) + 1 // at most 100 ms of lines in one write
		}
		buf = buf[:0]
		n := s.written.Load()
		for i := int64(1); i <= due; i++ {
			buf = append(buf, s.cfg.Line(int(n+i))...)
		}
		if len(buf) == 0 {
			continue
		}
		if _, err := f.Write(buf); err != nil {
			s.fail(err)
			return
		}
		s.written.Add(due)
	}
}

// rotate renames path.N to path.N+1 (deleting path.Keep), path to path.1,
// creates an empty path and tells the writer to reopen it.
func (s *Storm) rotate() {
	defer s.wg.Done()
	tick := time.NewTicker(s.cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		if err := s.shift(); err != nil {
			s.fail(err)
			return
		}
		s.rotations.Add(1)
		select {
		case s.reopen <- struct{}{}:
		default:
		}
	}
}

func (s *Storm) shift() error {
	p := s.cfg.Path
	top := int(s.rotations.Load()) + 1
	if s.cfg.Keep > 0 && top > s.cfg.Keep {
		top = s.cfg.Keep
		if err := os.Remove(fmt.Sprintf("%s.%d", p, top)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	for i := top - 1; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", p, i), fmt.Sprintf("%s.%d", p, i+1)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	if err := os.Rename(p, p+".1"); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644) // the writer may have reopened it already
	if err != nil {
		return err
	}
	return f.Close()
}

// Stop ends the storm (the writer has reopened the path, so nothing more
// goes to a rotated file) and returns the lines written and rotations.
func (s *Storm) Stop() (lines, rotations int64) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
	return s.written.Load(), s.rotations.Load()
}

// Err is the first error of the writer or rotator.
func (s *Storm) Err() error {
	if e := s.err.Load(); e != nil {
		return *e
	}
	return nil
}

// Written is how many lines have been written so far.
func (s *Storm) Written() int64 { return s.written.Load() }

// Burn keeps n CPUs busy with shell loops (each its own process, so they
// compete with the test for the machine, not only for Go's scheduler)
// until the test ends.
func Burn(t testing.TB, n int) {
	for i := 0; i < n; i++ {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("CPU burner: %v", err)
		}
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		})
	}
}

// Counts tells how many times each numbered line was seen.
type Counts struct {
	mu   sync.Mutex
	seen []uint8
}

// See records line n.
func (c *Counts) See(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n >= len(c.seen) {
		c.seen = append(c.seen, make([]uint8, len(c.seen)+1024)...)
	}
	if c.seen[n] < 255 {
		c.seen[n]++
	}
}

// Check compares lines 1..written with what was seen: how many were
// missed, how many seen more than once (extra sightings), and how many
// seen in all.
func (c *Counts) Check(written int64) (missed, extra, total int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := 1; n < len(c.seen) || int64(n) <= written; n++ {
		k := int64(0)
		if n < len(c.seen) {
			k = int64(c.seen[n])
		}
		total += k
		switch {
		case k == 0 && int64(n) <= written:
			missed++
		case k > 1:
			extra += k - 1
		}
	}
	return missed, extra, total
}

// Files lists path and its rotated files, for a failure message.
func Files(path string) []string {
	m, _ := filepath.Glob(path + "*")
	return m
}

// Figures are what a driven storm wrote and what the reader counted.
type Figures struct {
	Written, Counted, Rotations int64
	Runs                        int
	Took                        time.Duration
}

func (f Figures) String() string {
	return fmt.Sprintf("%d lines written, %d counted (%+d), %d rotations, %d runs in %s",
		f.Written, f.Counted, f.Counted-f.Written, f.Rotations, f.Runs, f.Took.Round(time.Second))
}

// Drive runs check at random moments (gaps up to maxGap) while the storm
// lasts d, then stops it and runs check until it counts every line
// written (or three minutes pass: the race detector reads slowly), then once more after settle, so a rotated
// file left behind late is seen to add nothing. check returns the lines
// counted so far.
func Drive(t testing.TB, s *Storm, d, maxGap, settle time.Duration, check func() int64) Figures {
	t.Helper()
	began := time.Now()
	var f Figures
	run := func() int64 { f.Runs++; return check() }
	gap := func() time.Duration { return time.Duration(time.Now().UnixNano() % int64(maxGap)) }
	for end := time.Now().Add(d); time.Now().Before(end); {
		run()
		time.Sleep(gap())
	}
	f.Written, f.Rotations = s.Stop()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
		if run() >= f.Written {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(settle + 200*time.Millisecond)
	f.Counted = run()
	f.Took = time.Since(began)
	return f
}
