package remotewrite

import (
	"time"
)

// States of a receiver, for the status page and /api/v1/remote_write.
const (
	StateStarting = "starting" // nothing sent yet
	StateOK       = "ok"       // the last request was stored
	StateRetrying = "retrying" // the last request failed and is retried; samples wait
	StateRejected = "rejected" // the last request was refused (4xx) and dropped
)

// Status is one receiver's state.
type Status struct {
	URL   string `json:"url"`
	State string `json:"state"`
	// Diagnosis says what is wrong and what to do, "" when all is well.
	Diagnosis string `json:"diagnosis,omitempty"`
	// HTTPStatus of the last answer, 0 if none came.
	HTTPStatus int `json:"http_status,omitempty"`
	// ReceiverSaid quotes the receiver's last answer (bounded, scrubbed).
	ReceiverSaid string     `json:"receiver_said,omitempty"`
	RetryAfter   string     `json:"retry_after,omitempty"`
	LastSuccess  *time.Time `json:"last_success,omitempty"`
	LastAttempt  *time.Time `json:"last_attempt,omitempty"`
	QueueBytes   int64      `json:"queue_bytes"`
	// OldestQueued is the time of the oldest sample still waiting.
	OldestQueued *time.Time       `json:"oldest_queued,omitempty"`
	SamplesSent  float64          `json:"samples_sent"`
	Dropped      map[string]int64 `json:"samples_dropped"`
	Interval     string           `json:"interval"`
	MaxBytes     int64            `json:"queue_max_bytes"`
	MaxAge       string           `json:"queue_max_age"`
}

// record keeps what a request came to, for status().
func (p *pusher) record(res result, rec *Record) {
	now := time.Now()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	s := &p.state
	s.LastAttempt = &now
	s.HTTPStatus = res.status
	s.ReceiverSaid = res.quote
	s.RetryAfter = ""
	if res.retryAfter > 0 {
		s.RetryAfter = res.retryAfter.String()
	}
	switch res.outcome {
	case stored:
		s.LastSuccess = &now
		s.State = StateOK
		s.Diagnosis = res.diagnosis // a trickled answer says so
	case retry:
		s.State, s.Diagnosis = StateRetrying, res.diagnosis
	case permanent:
		s.State, s.Diagnosis = StateRejected, res.diagnosis
	}
	_ = rec
}

func (p *pusher) status() Status {
	p.stateMu.Lock()
	s := p.state
	p.stateMu.Unlock()
	s.QueueBytes = p.queue.Bytes()
	if t := p.queue.Oldest(); !t.IsZero() {
		s.OldestQueued = &t
	}
	s.SamplesSent = p.met.value(p.met.samples.WithLabelValues(p.safeURL))
	s.Dropped = map[string]int64{}
	for _, r := range Reasons {
		s.Dropped[r] = int64(p.met.value(p.met.dropped.WithLabelValues(p.safeURL, r)))
	}
	s.Interval = p.cfg.Interval.String()
	s.MaxBytes = int64(p.cfg.Queue.MaxBytes)
	s.MaxAge = p.cfg.Queue.MaxAge.String()
	return s
}
