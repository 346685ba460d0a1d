package schedule

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestOverlappingTicksAreSkippedNotStacked(t *testing.T) {
	var skipped, runs, concurrent, maxConcurrent atomic.Int32
	s := New(func(string) { skipped.Add(1) })
	release := make(chan struct{})
	if err := s.Add("slow", "@every 1s", func(ctx context.Context) {
		n := concurrent.Add(1)
		defer concurrent.Add(-1)
		if n > maxConcurrent.Load() {
			maxConcurrent.Store(n)
		}
		runs.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
	}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	// The first run starts at once and blocks; the 1s ticks that follow
	// must each be skipped.
	deadline := time.Now().Add(10 * time.Second)
	for skipped.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(release)
	s.Stop(time.Second)
	if skipped.Load() < 2 || maxConcurrent.Load() != 1 {
		t.Fatalf("skipped=%d runs=%d max concurrent=%d", skipped.Load(), runs.Load(), maxConcurrent.Load())
	}
}

func TestStopCancelsRunsPastGrace(t *testing.T) {
	s := New(nil)
	started := make(chan struct{})
	cancelled := make(chan struct{})
	_ = s.Add("stuck", "@every 1h", func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		close(cancelled)
	})
	s.Start()
	<-started
	began := time.Now()
	s.Stop(200 * time.Millisecond)
	select {
	case <-cancelled:
	default:
		t.Fatal("run not cancelled")
	}
	if took := time.Since(began); took < 200*time.Millisecond || took > 2*time.Second {
		t.Fatalf("Stop took %s, want about the 200ms grace", took)
	}
}

func TestStopWaitsForRunsWithinGrace(t *testing.T) {
	s := New(nil)
	var finished atomic.Bool
	started := make(chan struct{})
	_ = s.Add("short", "@every 1h", func(ctx context.Context) {
		close(started)
		time.Sleep(150 * time.Millisecond)
		finished.Store(ctx.Err() == nil)
	})
	s.Start()
	<-started
	s.Stop(5 * time.Second)
	if !finished.Load() {
		t.Fatal("run was cut short though it fit in the grace period")
	}
}

// Start runs every job once, however many there are, and at most
// maxFirstRunsAtOnce at once.
func TestStartRunsEveryJobOnceAFewAtATime(t *testing.T) {
	s := New(nil)
	const jobs = 3*maxFirstRunsAtOnce + 5
	var inFlight, most, runs atomic.Int32
	ran := make([]atomic.Int32, jobs)
	for i := range jobs {
		if err := s.Add(fmt.Sprintf("j%d", i), "@every 1h", func(context.Context) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(5 * time.Millisecond) // long enough for runs to overlap
			ran[i].Add(1)
			runs.Add(1)
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Start()
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() < jobs && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.Stop(time.Second)
	for i := range ran {
		if n := ran[i].Load(); n != 1 {
			t.Errorf("job %d ran %d times", i, n)
		}
	}
	if m := most.Load(); m > maxFirstRunsAtOnce || m < 2 {
		t.Errorf("%d first runs at once, want 2..%d", m, maxFirstRunsAtOnce)
	}
}
