package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"
)

const (
	// maxBatch is the most alerts one POST carries (Prometheus' default).
	maxBatch = 256
	// defaultQueueCapacity bounds each Alertmanager's queue (Prometheus'
	// default); beyond it the oldest alerts are dropped.
	defaultQueueCapacity = 10000
	// maxDrain bounds the best-effort send of what is queued at shutdown.
	maxDrain = 5 * time.Second
)

// postableAlert is one element of the body of POST /api/v2/alerts.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// sender owns one Alertmanager: its queue and the goroutine that drains
// it, so a slow or dead Alertmanager delays no other.
type sender struct {
	cfg      AlertmanagerConfig
	endpoint string
	client   *http.Client
	log      *slog.Logger
	metrics  *metrics
	capacity int

	mu    sync.Mutex
	queue []postableAlert

	more     chan struct{} // something was queued
	stop     chan struct{} // closed to end the loop
	done     chan struct{} // closed when the loop has ended
	started  bool
	drain    bool      // on stop, send what is queued first…
	deadline time.Time // …until then

	// The outcome of the latest POSTs, for the status page.
	lastOK      time.Time
	lastErr     string
	lastErrTime time.Time
}

func newSender(cfg AlertmanagerConfig, log *slog.Logger, m *metrics, capacity int) (*sender, error) {
	rt, err := promconfig.NewRoundTripperFromConfig(cfg.httpConfig(), "pbxwatch_alerting")
	if err != nil {
		return nil, fmt.Errorf("alertmanager %s: %w", cfg.URL, err)
	}
	if capacity <= 0 {
		capacity = defaultQueueCapacity
	}
	s := &sender{
		cfg:      cfg,
		endpoint: strings.TrimSuffix(cfg.URL, "/") + "/api/v2/alerts",
		client:   &http.Client{Transport: rt},
		log:      log.With("alertmanager", cfg.URL),
		metrics:  m,
		capacity: capacity,
		more:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	m.sent.WithLabelValues(cfg.URL)
	m.errors.WithLabelValues(cfg.URL)
	m.dropped.WithLabelValues(cfg.URL)
	m.queueLen.WithLabelValues(cfg.URL).Set(0)
	return s, nil
}

// enqueue adds alerts, dropping the oldest beyond capacity. It never
// blocks on the network.
func (s *sender) enqueue(alerts []postableAlert) {
	s.mu.Lock()
	s.queue = append(s.queue, alerts...)
	if over := len(s.queue) - s.capacity; over > 0 {
		s.metrics.dropped.WithLabelValues(s.cfg.URL).Add(float64(over))
		s.log.Warn("notification queue full, dropped the oldest alerts", "dropped", over, "capacity", s.capacity)
		s.queue = append(s.queue[:0:0], s.queue[over:]...)
	}
	s.metrics.queueLen.WithLabelValues(s.cfg.URL).Set(float64(len(s.queue)))
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
}

// next takes up to maxBatch alerts off the queue.
func (s *sender) next() []postableAlert {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(len(s.queue), maxBatch)
	if n == 0 {
		return nil
	}
	batch := s.queue[:n:n]
	s.queue = s.queue[n:]
	s.metrics.queueLen.WithLabelValues(s.cfg.URL).Set(float64(len(s.queue)))
	return batch
}

func (s *sender) start() {
	if s.started {
		return
	}
	s.started = true
	go s.loop()
}

// close ends the loop; with drain, what is queued is sent first, within
// drainTimeout. It waits for the loop to end.
func (s *sender) close(drain bool) {
	if !s.started {
		s.drop()
		return
	}
	s.mu.Lock()
	s.drain = drain
	s.deadline = time.Now().Add(s.drainTimeout())
	s.mu.Unlock()
	close(s.stop)
	<-s.done
}

func (s *sender) loop() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		s.mu.Lock()
		drain, deadline := s.drain, s.deadline
		s.mu.Unlock()
		if drain {
			// A POST in flight may finish within the drain time.
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}
		cancel()
	}()
	for {
		select {
		case <-s.stop:
			s.finish()
			return
		case <-s.more:
		}
		for batch := s.next(); batch != nil; batch = s.next() {
			select {
			case <-s.stop:
				s.requeueFront(batch)
				s.finish()
				return
			default:
			}
			s.post(ctx, batch)
		}
	}
}

// finish drains (within one timeout) or drops what is left.
func (s *sender) finish() {
	s.mu.Lock()
	drain, deadline := s.drain, s.deadline
	s.mu.Unlock()
	if !drain {
		s.drop()
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for batch := s.next(); batch != nil; batch = s.next() {
		if ctx.Err() != nil {
			s.requeueFront(batch)
			s.drop()
			return
		}
		s.post(ctx, batch)
	}
}

// drainTimeout bounds the sending at shutdown, so a dead Alertmanager
// cannot hold up the agent's stop.
func (s *sender) drainTimeout() time.Duration { return min(s.cfg.Timeout, maxDrain) }

func (s *sender) requeueFront(batch []postableAlert) {
	s.mu.Lock()
	s.queue = append(batch, s.queue...)
	s.mu.Unlock()
}

// drop discards the queue, counting it.
func (s *sender) drop() {
	s.mu.Lock()
	n := len(s.queue)
	s.queue = nil
	s.mu.Unlock()
	if n > 0 {
		s.metrics.dropped.WithLabelValues(s.cfg.URL).Add(float64(n))
		s.log.Warn("alerts not sent before stopping", "dropped", n)
	}
	s.metrics.queueLen.WithLabelValues(s.cfg.URL).Set(0)
}

// post sends one batch. A failure is not retried: firing alerts are re-sent
// every resend interval and resolved ones for 15 minutes, so an
// Alertmanager that comes back gets what is still active.
func (s *sender) post(ctx context.Context, batch []postableAlert) {
	err := s.send(ctx, batch)
	s.mu.Lock()
	if err != nil {
		s.lastErr, s.lastErrTime = err.Error(), time.Now()
	} else {
		s.lastOK = time.Now()
	}
	s.mu.Unlock()
	if err != nil {
		s.metrics.errors.WithLabelValues(s.cfg.URL).Add(float64(len(batch)))
		s.log.Error("error sending alerts", "count", len(batch), "err", err)
		return
	}
	s.metrics.sent.WithLabelValues(s.cfg.URL).Add(float64(len(batch)))
}

func (s *sender) send(ctx context.Context, batch []postableAlert) error {
	body, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("encode alerts: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pbxwatch")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", s.endpoint, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
