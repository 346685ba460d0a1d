package remotewrite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backoff between retries of a request, as Prometheus' remote write
// (min_backoff 30ms, max_backoff 5s): short, so a receiver that comes back
// is used within seconds; a receiver's Retry-After is honoured beyond it.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Options are what the manager needs from the agent.
type Options struct {
	// Gatherer is what serves /metrics: the agent's and every plugin's
	// series.
	Gatherer prometheus.Gatherer
	// Registerer receives the pbxwatch_remote_write_* metrics.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// StateDir is agent.state_dir; queues live in StateDir/remote_write/.
	StateDir string
	// CredentialsDir is where relative *_file paths are looked up.
	CredentialsDir string
	// ExternalLabels are agent.external_labels, instance filled in.
	ExternalLabels map[string]string
}

// Manager runs one pusher per configured receiver and swaps them on
// reload. Queues stay on disk across reloads and restarts.
type Manager struct {
	met *metrics

	mu      sync.Mutex
	pushers []*pusher
}

// NewManager registers the metrics; Apply starts pushing.
func NewManager(reg prometheus.Registerer) *Manager {
	return &Manager{met: newMetrics(reg)}
}

// Apply replaces the running receivers with cfgs. Every client is built
// (TLS files read, queues opened) before the old ones stop; on error
// nothing changes.
func (m *Manager) Apply(cfgs []Config, o Options) error {
	var next []*pusher
	for _, c := range cfgs {
		p, err := newPusher(c, o, m.met)
		if err != nil {
			for _, p := range next {
				p.queue.Close()
			}
			return err
		}
		next = append(next, p)
	}
	m.mu.Lock()
	old := m.pushers
	m.mu.Unlock()
	for _, p := range old {
		p.stop()
	}
	keep := map[string]bool{}
	for _, p := range next {
		keep[p.safeURL] = true
	}
	for _, p := range old {
		if !keep[p.safeURL] {
			m.met.forget(p.safeURL)
		}
	}
	for _, p := range next {
		p.start()
	}
	m.mu.Lock()
	m.pushers = next
	m.mu.Unlock()
	return nil
}

// Stop stops every pusher; their queues stay on disk.
func (m *Manager) Stop() {
	m.mu.Lock()
	old := m.pushers
	m.pushers = nil
	m.mu.Unlock()
	for _, p := range old {
		p.stop()
	}
}

// Status is every receiver's state, in config order.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.pushers))
	for _, p := range m.pushers {
		out = append(out, p.status())
	}
	return out
}

// QueueDir is the directory of a receiver's queue under state_dir: one per
// URL (its SHA-256 prefix, so that a URL's path or query never becomes a
// file name), with the URL written beside it for people.
func QueueDir(stateDir, url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(stateDir, "remote_write", hex.EncodeToString(sum[:8]))
}

// pusher gathers every interval into its queue and sends the queue.
type pusher struct {
	cfg      Config
	safeURL  string
	opts     Options
	log      *slog.Logger
	queue    *Queue
	client   *client
	met      *metrics
	cancel   context.CancelFunc
	done     sync.WaitGroup
	stateMu  sync.Mutex
	state    Status
	rejected rateLimit
	retrying rateLimit
	snap     *Snapshotter
	failing  bool
}

func newPusher(c Config, o Options, met *metrics) (*pusher, error) {
	cl, err := newClient(c, o.CredentialsDir)
	if err != nil {
		return nil, err
	}
	safe := SafeURL(c.URL)
	dir := QueueDir(o.StateDir, c.URL)
	dropped := met.dropped
	log := o.Logger.With("remote_write", safe)
	var dropLog rateLimit
	q, err := OpenQueue(dir, int64(c.Queue.MaxBytes), c.Queue.MaxAge, func(reason string, samples int) {
		dropped.WithLabelValues(safe, reason).Add(float64(samples))
		if dropLog.allow(time.Now()) {
			log.Warn("remote write: a queue bound was hit; the oldest samples are dropped (pbxwatch_remote_write_samples_dropped_total counts them)",
				"reason", reason, "samples", samples, "max_bytes", int64(c.Queue.MaxBytes), "max_age", c.Queue.MaxAge)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("remote_write %s: %w", safe, err)
	}
	_ = os.WriteFile(filepath.Join(dir, "url"), []byte(safe+"\n"), 0o600)
	met.init(safe)
	return &pusher{cfg: c, safeURL: safe, opts: o, log: log, queue: q, client: cl, met: met,
		snap:  &Snapshotter{Gatherer: o.Gatherer, External: o.ExternalLabels},
		state: Status{URL: safe, State: StateStarting}}, nil
}

func (p *pusher) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done.Add(2)
	go func() { defer p.done.Done(); p.collect(ctx) }()
	go func() { defer p.done.Done(); p.send(ctx) }()
}

func (p *pusher) stop() {
	if p.cancel != nil {
		p.cancel()
		p.done.Wait()
	}
	p.queue.Close()
}

// collect queues one sample of every series each interval, aligned to
// the interval so that the samples of every host share timestamps. The
// timestamp is the tick's (as a scrape's is its scheduled start), and a
// tick that comes late because the last append was slow (a slow fsync) is
// taken at once rather than skipped: no hole in a series for a busy disk.
func (p *pusher) collect(ctx context.Context) {
	p.snapshot(time.Now())
	iv := p.cfg.Interval
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Until(time.Now().Truncate(iv).Add(iv))):
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	p.snapshot(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case tick := <-t.C:
			p.snapshot(tick)
		}
	}
}

func (p *pusher) snapshot(now time.Time) {
	body, n, err := p.snap.Snapshot(now)
	if err != nil {
		p.log.Error("remote write: cannot gather the metrics", "err", err)
		return
	}
	if err := p.queue.Append(now, n, body); err != nil {
		p.log.Error("remote write: cannot queue the samples; they are lost", "samples", n, "err", err)
		p.met.dropped.WithLabelValues(p.safeURL, ReasonQueueFull).Add(float64(n))
	}
	p.met.queueBytes.WithLabelValues(p.safeURL).Set(float64(p.queue.Bytes()))
}

// send replays the queue oldest first, forever.
func (p *pusher) send(ctx context.Context) {
	backoff := minBackoff
	for ctx.Err() == nil {
		rec := p.queue.Head()
		p.met.queueBytes.WithLabelValues(p.safeURL).Set(float64(p.queue.Bytes()))
		if rec == nil {
			select {
			case <-ctx.Done():
				return
			case <-p.queue.Wait():
			case <-time.After(time.Second):
			}
			continue
		}
		res := p.client.send(ctx, rec.Payload, rec.Samples)
		if ctx.Err() != nil {
			return // stopping: the record stays queued
		}
		p.record(res, rec)
		switch res.outcome {
		case stored:
			p.queue.Done(rec)
			p.met.samples.WithLabelValues(p.safeURL).Add(float64(rec.Samples))
			p.met.lastSuccess.WithLabelValues(p.safeURL).Set(float64(time.Now().UnixNano()) / 1e9)
			backoff = minBackoff
			if p.failing {
				p.log.Info("remote write: the receiver stores samples again", "queued_bytes", p.queue.Bytes())
				p.failing = false
			}
		case permanent:
			p.queue.Done(rec)
			p.met.dropped.WithLabelValues(p.safeURL, ReasonRejected).Add(float64(rec.Samples))
			if p.rejected.allow(time.Now()) {
				p.log.Error("remote write: the receiver refused samples; dropped, not retried",
					"status", res.status, "samples", rec.Samples, "diagnosis", res.diagnosis, "receiver_said", res.quote)
			}
		case retry:
			wait := max(backoff, res.retryAfter)
			p.failing = true
			if p.retrying.allow(time.Now()) {
				p.log.Warn("remote write: the receiver did not store the samples; retrying", "status", res.status, "in", wait,
					"queued_bytes", p.queue.Bytes(), "diagnosis", res.diagnosis, "receiver_said", res.quote)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			backoff = min(backoff*2, maxBackoff)
		}
	}
}

// rateLimit lets one log line through a minute: a receiver refusing every
// request must not flood the journal.
type rateLimit struct {
	mu   sync.Mutex
	last time.Time
}

func (r *rateLimit) allow(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() && now.Sub(r.last) < time.Minute {
		return false
	}
	r.last = now
	return true
}
