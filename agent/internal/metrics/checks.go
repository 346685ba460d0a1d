package metrics

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// checkSeries holds the agent's own series of every check (status, last
// run, duration, runs, skips, restarts) as plain numbers and writes them
// at scrape time. Six metric vectors did the same at ~5.5 KB of live heap
// per check (a child object, its label pairs and its bookkeeping per
// series, 25 series a check); the agent's heap at 1,000 checks was set by
// them (docs/design.md "The agent's own series, written at scrape").
type checkSeries struct {
	status, lastRun, duration, runs, skipped, restarts *prometheus.Desc

	mu     sync.Mutex
	checks map[string]*checkState
}

// runResults are the values of check_runs_total's result label, in the
// order of sdk.Status (OK, WARNING, CRITICAL, UNKNOWN).
var runResults = [...]string{"ok", "warning", "critical", "unknown"}

// resultLabels are the result label pairs, shared by every check's
// check_runs_total series (the registry and encoders only read them).
var resultLabels = func() (pairs [len(runResults)]*dto.LabelPair) {
	for i, r := range runResults {
		pairs[i] = labelPair("result", r)
	}
	return pairs
}()

// durationBuckets are check_duration_seconds' upper bounds.
var durationBuckets = [...]float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// checkState is one check's series. A series exists once something
// created it, as with a vector's WithLabelValues: InitCheck makes the
// counters, a run the status, last-run and duration series of the plugin
// it ran under (a check moved to another plugin keeps both sets).
type checkState struct {
	checkLabel []*dto.LabelPair // check=NAME
	runs       [len(runResults)]counter
	runLabels  [len(runResults)][]*dto.LabelPair // check=NAME, result=R
	skipped    counter
	restarts   counter
	byPlugin   []*pluginRuns
}

type counter struct {
	exists bool
	value  float64
}

func (c *counter) inc() { c.exists, c.value = true, c.value+1 }

// pluginRuns are a check's series labelled with the plugin it ran under.
type pluginRuns struct {
	labels  []*dto.LabelPair // check=NAME, plugin=P
	status  float64
	lastRun float64
	count   uint64
	sum     float64
	buckets [len(durationBuckets)]uint64 // observations per bucket, not cumulative
}

func newCheckSeries() *checkSeries {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	return &checkSeries{
		status: desc("check_status",
			"Status of the check's last run: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios codes).", "check", "plugin"),
		lastRun: desc("check_last_run_timestamp_seconds",
			"Unix time the check's last run finished.", "check", "plugin"),
		duration: desc("check_duration_seconds",
			"Duration of check runs, including the round trip to the plugin.", "check", "plugin"),
		runs: desc("check_runs_total",
			"Check runs by result (ok, warning, critical, unknown).", "check", "result"),
		skipped: desc("check_skipped_total",
			"Scheduled runs skipped because the previous run of the check was still in progress.", "check"),
		restarts: desc("plugin_restarts_total",
			"Times a check's plugin process was started again after it exited, crashed or was killed.", "check"),
		checks: map[string]*checkState{},
	}
}

func labelPair(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)}
}

// state returns check's series, made on first use; s.mu is held.
func (s *checkSeries) state(check string) *checkState {
	if st, ok := s.checks[check]; ok {
		return st
	}
	name := labelPair("check", check)
	st := &checkState{checkLabel: []*dto.LabelPair{name}}
	for i, result := range resultLabels {
		st.runLabels[i] = []*dto.LabelPair{name, result}
	}
	s.checks[check] = st
	return st
}

// init makes the check's counters exist, so that rate() and absent() work
// before its first skip or restart.
func (s *checkSeries) init(check string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(check)
	for i := range st.runs {
		st.runs[i].exists = true
	}
	st.skipped.exists = true
	st.restarts.exists = true
}

// observe records one finished run; result indexes runResults.
func (s *checkSeries) observe(check, plugin string, result int, status, finished, seconds float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(check)
	p := st.plugin(plugin)
	p.status, p.lastRun = status, finished
	p.count++
	p.sum += seconds
	if i := sort.SearchFloat64s(durationBuckets[:], seconds); i < len(durationBuckets) {
		p.buckets[i]++ // the first bound at or above the value: le is inclusive
	}
	st.runs[result].inc()
}

func (st *checkState) plugin(plugin string) *pluginRuns {
	for _, p := range st.byPlugin {
		if p.labels[1].GetValue() == plugin {
			return p
		}
	}
	p := &pluginRuns{labels: []*dto.LabelPair{st.checkLabel[0], labelPair("plugin", plugin)}}
	st.byPlugin = append(st.byPlugin, p)
	return p
}

func (s *checkSeries) skip(check string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state(check).skipped.inc()
}

func (s *checkSeries) restart(check string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state(check).restarts.inc()
}

// names lists the checks with series.
func (s *checkSeries) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.checks))
	for c := range s.checks {
		out = append(out, c)
	}
	return out
}

func (s *checkSeries) forget(check string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.checks, check)
}

func (s *checkSeries) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.status, s.lastRun, s.duration, s.runs, s.skipped, s.restarts} {
		ch <- d
	}
}

// Collect sends each series' value as it is when sent, holding the lock
// as a metric vector does while it sends its children: a run finishing
// during a scrape waits for it.
func (s *checkSeries) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.checks {
		st.collect(ch, s)
	}
}

func (st *checkState) collect(ch chan<- prometheus.Metric, s *checkSeries) {
	for _, p := range st.byPlugin {
		ch <- &sample{desc: s.status, labels: p.labels, value: p.status}
		ch <- &sample{desc: s.lastRun, labels: p.labels, value: p.lastRun}
		ch <- &histogramSample{desc: s.duration, labels: p.labels, count: p.count, sum: p.sum, buckets: p.buckets}
	}
	for i, c := range st.runs {
		if c.exists {
			ch <- &sample{desc: s.runs, labels: st.runLabels[i], counter: true, value: c.value}
		}
	}
	if st.skipped.exists {
		ch <- &sample{desc: s.skipped, labels: st.checkLabel, counter: true, value: st.skipped.value}
	}
	if st.restarts.exists {
		ch <- &sample{desc: s.restarts, labels: st.checkLabel, counter: true, value: st.restarts.value}
	}
}

// sample is one gauge or counter value as a scrape writes it. Its label
// pairs are the check's own, shared by every scrape: the registry and the
// encoders only read them.
type sample struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	counter bool
	value   float64
}

func (m *sample) Desc() *prometheus.Desc { return m.desc }

func (m *sample) Write(out *dto.Metric) error {
	out.Label = m.labels
	if m.counter {
		out.Counter = &dto.Counter{Value: proto.Float64(m.value)}
	} else {
		out.Gauge = &dto.Gauge{Value: proto.Float64(m.value)}
	}
	return nil
}

type histogramSample struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	count   uint64
	sum     float64
	buckets [len(durationBuckets)]uint64
}

func (m *histogramSample) Desc() *prometheus.Desc { return m.desc }

func (m *histogramSample) Write(out *dto.Metric) error {
	h := &dto.Histogram{SampleCount: proto.Uint64(m.count), SampleSum: proto.Float64(m.sum)}
	h.Bucket = make([]*dto.Bucket, len(durationBuckets))
	var cumulative uint64
	for i, bound := range durationBuckets {
		cumulative += m.buckets[i]
		h.Bucket[i] = &dto.Bucket{CumulativeCount: proto.Uint64(cumulative), UpperBound: proto.Float64(bound)}
	}
	out.Label = m.labels
	out.Histogram = h
	return nil
}
