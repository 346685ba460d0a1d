// Package daemon ties the agent together: it starts one plugin process per
// configured check, schedules runs, records results as metrics and hands
// them to the alerting, and swaps in a new configuration on reload only
// after every plugin has accepted it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/metrics"
	"github.com/pbxwatch/pbxwatch/agent/internal/schedule"
	"github.com/pbxwatch/pbxwatch/agent/internal/truncation"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

// ResultFunc receives every finished run (the alerting hooks in here).
type ResultFunc func(check config.Check, res *sdk.Result, at time.Time)

// EventsFunc receives events a check's plugin sent between runs.
type EventsFunc func(check config.Check, events []sdk.Event, at time.Time)

// ConfigFunc receives every configuration that has been swapped in.
type ConfigFunc func(cfg *config.Config) error

// Options configure a Daemon.
type Options struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Grace is how long a stop or reload waits for runs in progress.
	Grace time.Duration
	// KillGrace is how long a run may overstay its timeout (pluginhost).
	KillGrace time.Duration
	OnResult  ResultFunc
	// OnEvents receives what a check says between its runs (a followed
	// log's matched lines), the moment the plugin says it.
	OnEvents EventsFunc
	// OnConfig vets and applies the non-check parts of a new config (the
	// alerting); an error rejects the reload.
	OnConfig ConfigFunc
	// Secrets, when set, is kept filled with the ${ENV} values of the
	// running configuration (and of the one before it, whose runs may
	// still log): the agent's logger scrubs them.
	Secrets *scrub.Set
}

// Daemon runs the checks of the current configuration.
type Daemon struct {
	opts  Options
	log   *slog.Logger
	mu    sync.Mutex // serialises Load, Reload and Shutdown
	gen   *generation
	cur   atomic.Pointer[generation] // gen, readable without waiting for a reload
	ready atomic.Bool
	busy  atomic.Bool // a load or stop holds mu
	// pool shares a plugin process between the checks of one plugin
	// binary, across reloads (a reload configures the new checks in the
	// process the old ones still run in).
	pool *pluginhost.Pool

	lastMu sync.Mutex
	last   map[string]LastRun
	hist   map[string]*History
}

// LastRun is a check's latest result, for the status page.
type LastRun struct {
	Check    config.Check
	Result   *sdk.Result
	At       time.Time
	Duration time.Duration
	// Next is when the check runs next (zero if not scheduled).
	Next    time.Time
	History History
}

// New makes a daemon with no checks loaded.
func New(opts Options) *Daemon {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Grace <= 0 {
		opts.Grace = 30 * time.Second
	}
	return &Daemon{opts: opts, log: opts.Logger, last: map[string]LastRun{}, hist: map[string]*History{}, pool: pluginhost.NewPool()}
}

// generation is one loaded configuration and the processes serving it.
type generation struct {
	cfg   *config.Config
	hosts map[string]*pluginhost.Host
	sched *schedule.Scheduler
}

// Ready reports whether a configuration is loaded and scheduled.
func (d *Daemon) Ready() bool { return d.ready.Load() }

// Load loads the config at path and starts it. With a configuration already
// running, it is a reload: the new one must load completely (every plugin
// started and configured) before the old one is stopped; otherwise the old
// one keeps running and the error is returned.
func (d *Daemon) Load(ctx context.Context, path string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.load(ctx, path)
	if err != nil {
		// A config error may quote a value (a URL with its password, a
		// plugin's complaint about a secret): it goes to the log, stderr
		// and the reload reply, so it is scrubbed here, once.
		err = errors.New(d.secrets().String(err.Error()))
	}
	if d.opts.Metrics != nil {
		d.opts.Metrics.ConfigLoaded(err == nil)
	}
	return err
}

// Alive reports whether the daemon answers within wait: its lock is free
// or held by a load or stop in progress, which may legitimately take the
// grace period. A deadlock elsewhere shows as false.
func (d *Daemon) Alive(wait time.Duration) bool {
	if d.busy.Load() {
		return true
	}
	deadline := time.Now().Add(wait)
	for {
		if d.mu.TryLock() {
			d.mu.Unlock()
			return true
		}
		if d.busy.Load() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (d *Daemon) load(ctx context.Context, path string) error {
	d.busy.Store(true)
	defer d.busy.Store(false)
	// A check's own problems do not stop the others (it reports
	// pbxwatch.check_invalid instead); a file that cannot be read as a
	// whole does.
	cfg, err := config.LoadLenient(path)
	if err != nil {
		return err
	}
	if d.gen == nil {
		// The first load: an agent killed with SIGKILL before us may have
		// left its plugins' socket directories.
		pluginhost.CleanStaleSocketDirs(d.log)
	}
	if d.opts.Secrets != nil {
		var keep []string
		if d.gen != nil {
			keep = d.gen.cfg.Secrets()
		}
		d.opts.Secrets.Replace(append(keep, cfg.Secrets()...)...)
	}
	gen, err := d.prepare(ctx, cfg)
	if err != nil {
		return err
	}
	if d.opts.OnConfig != nil {
		if err := d.opts.OnConfig(cfg); err != nil {
			gen.close()
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if old := d.gen; old != nil {
		old.sched.Stop(d.opts.Grace)
		old.close()
	}
	d.gen = gen
	d.cur.Store(gen)
	d.retain(cfg)
	gen.sched.Start()
	d.ready.Store(true)
	d.log.Info("configuration loaded", "file", path, "checks", len(cfg.Checks))
	return nil
}

// prepare starts and configures every check's plugin, concurrently, and
// schedules them (not yet started). A check that cannot start (its config
// or plugin is wrong) is scheduled to report pbxwatch.check_invalid.
func (d *Daemon) prepare(ctx context.Context, cfg *config.Config) (*generation, error) {
	hosts, failed := StartEach(ctx, cfg, d.spec)
	gen := &generation{cfg: cfg, hosts: hosts, sched: schedule.New(d.skipped)}
	for _, ch := range cfg.Checks {
		ch, h := ch, hosts[ch.Name]
		job := func(ctx context.Context) { d.run(ctx, ch, h) }
		spec := ch.Schedule
		if err := failed[ch.Name]; err != nil {
			// The error becomes the check's evidence on every surface.
			err = errors.New(d.secrets().String(err.Error()))
			d.log.Error("check cannot run; reporting it UNKNOWN until a reload fixes it", "check", ch.Name, "err", err)
			res := InvalidResult(cfg, ch, err)
			res.Bound(truncation.Count)
			job = func(context.Context) { d.observe(ch, res, 0) }
			if _, perr := config.ParseSchedule(spec); perr != nil {
				spec = config.DefaultSchedule
			}
		}
		if err := gen.sched.Add(ch.Name, spec, job); err != nil {
			gen.close()
			return nil, fmt.Errorf("%s:%d: check %q: %w", cfg.File, ch.Line, ch.Name, err)
		}
		if d.opts.Metrics != nil {
			d.opts.Metrics.InitCheck(ch.Name)
		}
	}
	return gen, nil
}

// spec builds the plugin host spec for a check of the daemon.
func (d *Daemon) spec(cfg *config.Config, ch config.Check) (pluginhost.Spec, error) {
	dir := cfg.StateDir(ch.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return pluginhost.Spec{}, fmt.Errorf("check %s: state dir: %w (agent.state_dir must be writable by the service user)", ch.Name, err)
	}
	s := SpecFor(cfg, ch, dir, d.log)
	s.KillGrace = d.opts.KillGrace
	s.Pool = d.pool
	name := ch.Name
	s.OnRestart = func() {
		if d.opts.Metrics != nil {
			d.opts.Metrics.Restarted(name)
		}
	}
	if d.opts.OnEvents != nil {
		s.OnEvents = func(evs []sdk.Event) { d.opts.OnEvents(ch, evs, time.Now()) }
	}
	return s, nil
}

// SpecFor is the plugin host spec of a check, with the given state dir.
func SpecFor(cfg *config.Config, ch config.Check, stateDir string, log *slog.Logger) pluginhost.Spec {
	return pluginhost.Spec{
		Check:      ch.Name,
		Plugin:     ch.Plugin,
		Binary:     ch.Binary,
		SHA256:     ch.SHA256,
		StateDir:   stateDir,
		ConfigYAML: ch.ConfigYAML,
		SourceFile: cfg.File,
		LineMap:    ch.LineMap,
		Logger:     log,
		Secrets:    ch.Secrets,
		HideEnv:    cfg.ForeignEnv(ch),
		OnTruncate: truncation.Count,
		Isolate:    ch.Isolate,

		CredentialsDir: cfg.CredentialsDir(),
	}
}

// secrets is the set the daemon's errors are scrubbed with.
func (d *Daemon) secrets() *scrub.Set {
	if d.opts.Secrets != nil {
		return d.opts.Secrets
	}
	return &scrub.Set{}
}

// SpecFunc builds the plugin host spec of one check.
type SpecFunc func(cfg *config.Config, ch config.Check) (pluginhost.Spec, error)

// StartPlugins starts every check's plugin concurrently (maxParallelStarts
// at a time). If any fails, all are stopped and every error is returned,
// joined, in config order.
func StartPlugins(ctx context.Context, cfg *config.Config, specFor SpecFunc) (map[string]*pluginhost.Host, error) {
	hosts, failed := StartEach(ctx, cfg, specFor)
	if err := JoinInOrder(cfg, failed); err != nil {
		closeAll(hosts)
		return nil, err
	}
	return hosts, nil
}

// StartEach starts the plugin of every check without problems of its own
// (config.Check.Invalid), concurrently. It returns the hosts started and,
// by check name, why each other check cannot run.
func StartEach(ctx context.Context, cfg *config.Config, specFor SpecFunc) (map[string]*pluginhost.Host, map[string]error) {
	return startEach(ctx, cfg, specFor, false)
}

// ValidateEach is StartEach for `pbxwatch validate`: a check with problems
// of its own still has its plugin check its block if the plugin was found,
// so that every problem is listed at once. The hosts are closed.
func ValidateEach(ctx context.Context, cfg *config.Config, specFor SpecFunc) map[string]error {
	hosts, failed := startEach(ctx, cfg, specFor, true)
	closeAll(hosts)
	return failed
}

// maxParallelStarts bounds the checks a (re)load starts at once. Each
// start is a goroutine whose stack grows through the plugin's handshake
// and Configure call: a thousand at once held ~20 MB of stacks in the
// agent (and as many calls in a shared plugin process) for a moment that
// the runtime then returns to the system only slowly. Sixty-four keep a
// plugin's own start (process launch, handshake) overlapping others.
const maxParallelStarts = 64

func startEach(ctx context.Context, cfg *config.Config, specFor SpecFunc, evenInvalid bool) (map[string]*pluginhost.Host, map[string]error) {
	hosts := make([]*pluginhost.Host, len(cfg.Checks))
	errs := make([]error, len(cfg.Checks))
	var starts errgroup.Group // errors are kept per check, not returned
	starts.SetLimit(maxParallelStarts)
	for i, ch := range cfg.Checks {
		if ch.Invalid != nil && (!evenInvalid || ch.Binary == "" || ch.ConfigYAML == nil && ch.Config.Kind != 0) {
			errs[i] = ch.Invalid
			continue
		}
		starts.Go(func() error {
			spec, err := specFor(cfg, ch)
			if err == nil {
				hosts[i], err = pluginhost.Start(ctx, spec)
			}
			if err != nil {
				err = fmt.Errorf("%s:%d: %w", cfg.File, ch.Line, err)
			}
			errs[i] = errors.Join(ch.Invalid, err)
			return nil
		})
	}
	_ = starts.Wait()
	out := make(map[string]*pluginhost.Host, len(hosts))
	failed := map[string]error{}
	for i, h := range hosts {
		if h != nil {
			out[cfg.Checks[i].Name] = h
		}
		if errs[i] != nil {
			// Two checks of one name (a file problem reported on its own)
			// must not hide each other's errors.
			name := cfg.Checks[i].Name
			if prev := failed[name]; prev != nil {
				errs[i] = errors.Join(prev, errs[i])
			}
			failed[name] = errs[i]
		}
	}
	return out, failed
}

// JoinInOrder joins the errors of StartEach in the config's order.
func JoinInOrder(cfg *config.Config, failed map[string]error) error {
	var errs []error
	seen := map[string]bool{}
	for _, ch := range cfg.Checks {
		if err := failed[ch.Name]; err != nil && !seen[ch.Name] {
			errs = append(errs, err)
		}
		seen[ch.Name] = true
	}
	return errors.Join(errs...)
}

func closeAll(hosts map[string]*pluginhost.Host) {
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Close()
		}()
	}
	wg.Wait()
}

func (g *generation) close() { closeAll(g.hosts) }

// Shutdown stops scheduling, waits up to the grace period for runs in
// progress, and stops every plugin process.
func (d *Daemon) Shutdown() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.busy.Store(true)
	defer d.busy.Store(false)
	d.ready.Store(false)
	if d.gen == nil {
		return
	}
	d.gen.sched.Stop(d.opts.Grace)
	d.gen.close()
	d.gen = nil
	d.cur.Store(nil)
}

func (d *Daemon) skipped(check string) {
	d.log.Warn("previous run still in progress; skipping this one", "check", check)
	if d.opts.Metrics != nil {
		d.opts.Metrics.Skipped(check)
	}
}

// run runs a check once and records the result.
func (d *Daemon) run(ctx context.Context, ch config.Check, h *pluginhost.Host) {
	began := time.Now()
	res := h.Run(ctx, ch.Timeout)
	took := time.Since(began)
	if ctx.Err() != nil && isShutdown(res) {
		// Cut short by a stop or reload: not a finding about the check.
		return
	}
	d.observe(ch, res, took)
}

// observe records a result on every surface: metrics, status, alerts.
func (d *Daemon) observe(ch config.Check, res *sdk.Result, took time.Duration) {
	now := time.Now()
	if d.opts.Metrics != nil {
		d.opts.Metrics.ObserveRun(ch.Name, ch.Plugin, res, now, took)
	}
	d.record(ch, res, now, took)
	if d.opts.OnResult != nil {
		d.opts.OnResult(ch, res, now)
	}
}

func isShutdown(res *sdk.Result) bool {
	return len(res.Diagnoses) == 1 && res.Diagnoses[0].Code == sdk.CodeAgentStopping
}

// record keeps the latest result and logs status changes at INFO (WARN for
// a worse status), every other run at DEBUG.
func (d *Daemon) record(ch config.Check, res *sdk.Result, at time.Time, took time.Duration) {
	d.lastMu.Lock()
	prev, seen := d.last[ch.Name]
	d.last[ch.Name] = LastRun{Check: ch, Result: res, At: at, Duration: took}
	h := d.hist[ch.Name]
	if h == nil {
		h = &History{}
		d.hist[ch.Name] = h
	}
	var prevStatus sdk.Status
	if seen {
		prevStatus = prev.Result.Status
	}
	h.add(res, at, took, prevStatus, seen)
	d.lastMu.Unlock()

	attrs := []any{"check", ch.Name, "status", res.Status.String(), "summary", res.Summary, "duration", took.Round(time.Millisecond)}
	for _, dg := range res.Diagnoses {
		attrs = append(attrs, slog.Group("diagnosis", "code", dg.Code, "message", dg.Message))
	}
	switch {
	case seen && prev.Result.Status == res.Status:
		d.log.Debug("check ran", attrs...)
	case res.Status == sdk.StatusOK:
		d.log.Info("check status changed", attrs...)
	default:
		d.log.Warn("check status changed", attrs...)
	}
}

// LastRuns returns every check's latest result, in config order.
func (d *Daemon) LastRuns() []LastRun {
	gen := d.cur.Load()
	if gen == nil {
		return nil
	}
	d.lastMu.Lock()
	defer d.lastMu.Unlock()
	out := make([]LastRun, 0, len(gen.cfg.Checks))
	for _, ch := range gen.cfg.Checks {
		lr, ok := d.last[ch.Name]
		if !ok {
			lr = LastRun{Check: ch}
		}
		lr.Next = gen.sched.Next(ch.Name)
		lr.History = d.hist[ch.Name].copy()
		out = append(out, lr)
	}
	return out
}

// retain forgets checks the new config no longer has.
func (d *Daemon) retain(cfg *config.Config) {
	keep := make(map[string]string, len(cfg.Checks))
	for _, ch := range cfg.Checks {
		keep[ch.Name] = ch.Plugin
	}
	d.lastMu.Lock()
	for name := range d.last {
		if _, ok := keep[name]; !ok {
			delete(d.last, name)
			delete(d.hist, name)
		}
	}
	d.lastMu.Unlock()
	if d.opts.Metrics != nil {
		d.opts.Metrics.Retain(keep)
	}
}
