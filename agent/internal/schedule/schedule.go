// Package schedule runs jobs on cron schedules, never overlapping a job with
// itself: a tick that finds the previous run still going is skipped and
// reported, as an operator would rather see a skipped run counted than runs
// piling up behind a slow server.
package schedule

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"golang.org/x/sync/errgroup"
)

// Scheduler owns a set of jobs.
type Scheduler struct {
	cron   *cron.Cron
	onSkip func(job string)

	ctx    context.Context // cancelled to abort runs in progress
	cancel context.CancelFunc
	jobs   []*job

	mu      sync.Mutex // orders wg.Add against Stop's wg.Wait
	stopped bool
	wg      sync.WaitGroup
}

type job struct {
	id      cron.EntryID
	name    string
	run     func(context.Context)
	running atomic.Bool
	s       *Scheduler
}

// New makes a scheduler; onSkip is called for every skipped tick.
func New(onSkip func(job string)) *Scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		cron:   cron.New(cron.WithParser(cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor))),
		onSkip: onSkip,
		ctx:    ctx,
		cancel: cancel,
	}
}

// Add schedules run under spec (5 cron fields or a descriptor).
func (s *Scheduler) Add(name string, spec string, run func(context.Context)) error {
	j := &job{name: name, run: run, s: s}
	id, err := s.cron.AddFunc(spec, j.tick)
	if err != nil {
		return err
	}
	j.id = id
	s.jobs = append(s.jobs, j)
	return nil
}

// Next is when job name runs next (zero if unknown or not started).
func (s *Scheduler) Next(name string) time.Time {
	for _, j := range s.jobs {
		if j.name == name {
			return s.cron.Entry(j.id).Next
		}
	}
	return time.Time{}
}

// maxFirstRunsAtOnce bounds the runs Start makes at once. A run is a
// goroutine whose stack grows through its plugin call, and a thousand
// checks started together held ~20 MB of stacks in the agent, and as many
// calls in a shared plugin process, for a moment the runtime then gives
// back to the system only slowly. A config with fewer checks is not
// affected; with more, the first runs follow each other as runs finish.
const maxFirstRunsAtOnce = 64

// Start runs every job once now, so that results exist without waiting a
// whole interval (maxFirstRunsAtOnce at a time), and then on its schedule.
func (s *Scheduler) Start() {
	go s.runEachOnce()
	s.cron.Start()
}

func (s *Scheduler) runEachOnce() {
	var runs errgroup.Group
	runs.SetLimit(maxFirstRunsAtOnce)
	for _, j := range s.jobs {
		if s.ctx.Err() != nil {
			return // stopped; a stopped scheduler's ticks return at once
		}
		runs.Go(func() error {
			j.tick()
			return nil
		})
	}
}

func (j *job) tick() {
	if !j.running.CompareAndSwap(false, true) {
		if j.s.onSkip != nil {
			j.s.onSkip(j.name)
		}
		return
	}
	defer j.running.Store(false)
	if !j.s.enter() {
		return
	}
	defer j.s.wg.Done()
	j.run(j.s.ctx)
}

// enter registers a run unless the scheduler is stopping.
func (s *Scheduler) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.wg.Add(1)
	return true
}

// Stop stops scheduling, waits up to grace for runs in progress, then
// cancels what is still running and waits for it to return (plugin hosts
// return promptly once cancelled).
func (s *Scheduler) Stop(grace time.Duration) {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.cron.Stop() // no new ticks; runs in progress are in wg
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		s.cancel()
		<-done
	}
	s.cancel()
}
