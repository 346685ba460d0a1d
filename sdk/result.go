package sdk

import (
	"fmt"
	"time"
)

// Status is the outcome of one check run, with the Nagios plugin API's
// meaning and numbering, so it doubles as an exit code.
type Status int

// The four statuses, numbered as Nagios exit codes.
const (
	// StatusOK: the check found what it expects, on positive evidence.
	StatusOK Status = 0
	// StatusWarning: something needs attention soon.
	StatusWarning Status = 1
	// StatusCritical: something is broken now.
	StatusCritical Status = 2
	// StatusUnknown: the check could not decide (it failed, timed out, or
	// saw an answer it does not recognise).
	StatusUnknown Status = 3
)

// String returns "OK", "WARNING", "CRITICAL" or "UNKNOWN" (any value
// outside 0..3 is UNKNOWN).
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusWarning:
		return "WARNING"
	case StatusCritical:
		return "CRITICAL"
	default:
		return "UNKNOWN"
	}
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, error) {
	for _, st := range []Status{StatusOK, StatusWarning, StatusCritical, StatusUnknown} {
		if st.String() == s {
			return st, nil
		}
	}
	return StatusUnknown, fmt.Errorf("unknown status %q (want OK, WARNING, CRITICAL or UNKNOWN)", s)
}

// Worse returns the more severe of two statuses. UNKNOWN ranks between
// WARNING and CRITICAL: a check that could not decide is worse than a
// warning but must not hide a known critical failure.
func Worse(a, b Status) Status {
	rank := func(s Status) int {
		switch s {
		case StatusOK:
			return 0
		case StatusWarning:
			return 1
		case StatusUnknown:
			return 2
		default:
			return 3
		}
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Severity grades one diagnosis.
type Severity string

// The severities a diagnosis or event may have.
const (
	// SeverityInfo is worth showing but raises no status and fires no alert.
	SeverityInfo Severity = "info"
	// SeverityWarning makes the check WARNING and fires a warning alert.
	SeverityWarning Severity = "warning"
	// SeverityCritical makes the check CRITICAL and fires a critical alert.
	SeverityCritical Severity = "critical"
)

// Status maps a diagnosis severity to the check status it implies.
func (s Severity) Status() Status {
	switch s {
	case SeverityCritical:
		return StatusCritical
	case SeverityWarning:
		return StatusWarning
	default:
		return StatusOK
	}
}

// Diagnosis names one precise cause of a check's status and how to fix it.
type Diagnosis struct {
	// Code is stable across releases ("whmcs.invalid_ip"): alerts, dashboards
	// and runbooks key on it.
	Code     string
	Severity Severity
	// Message says what is wrong, in one or two sentences.
	Message string
	// Remediation lists the steps that fix it, in the order to take them.
	Remediation []string
	// Details carries the evidence: the IP the server saw, the denied actions.
	Details map[string]string
	// LogEvent, when set, makes the diagnosis a log event rather than a
	// state: it names the events it stands for (Event.Name, e.g. the log
	// pattern whose lines matched). The agent alerts on it as
	// PbxwatchLogEvent, one alert per (check, LogEvent) that resolves once
	// no match came for event_quiet_period, and never as
	// PbxwatchCheckFailing, so a match in one run and none in the next
	// does not flap.
	LogEvent string
}

// MetricType tells how the agent exports a plugin metric.
type MetricType int

// The metric types a plugin may report.
const (
	// Gauge values may go up and down (a size, a temperature, a timestamp).
	Gauge MetricType = iota
	// Counter values are cumulative totals owned by the plugin: it must
	// persist them (in its state directory) if they are to survive restarts.
	Counter
)

// String returns "gauge" or "counter".
func (t MetricType) String() string {
	if t == Counter {
		return "counter"
	}
	return "gauge"
}

// Metric is one sample a plugin reports. The agent exports it under Name with
// a "check" label added.
type Metric struct {
	Name   string
	Help   string
	Type   MetricType
	Labels map[string]string
	Value  float64
}

// Event is something that happened during a run, such as a matched log line.
// The agent turns events into alerts.
type Event struct {
	// Name identifies the kind of event, e.g. the log pattern that matched.
	Name     string
	Severity Severity
	Message  string
	Labels   map[string]string
	Time     time.Time
}

// Result is what one check run returns.
type Result struct {
	Status    Status
	Summary   string
	Diagnoses []Diagnosis
	Metrics   []Metric
	Events    []Event
}

// Diagnose appends a diagnosis and raises the status to what its severity
// implies.
func (r *Result) Diagnose(d Diagnosis) {
	r.Diagnoses = append(r.Diagnoses, d)
	r.Status = Worse(r.Status, d.Severity.Status())
}

// AddGauge appends a gauge sample.
func (r *Result) AddGauge(name, help string, value float64, labels map[string]string) {
	r.Metrics = append(r.Metrics, Metric{Name: name, Help: help, Type: Gauge, Labels: labels, Value: value})
}

// AddCounter appends a counter sample (a cumulative total).
func (r *Result) AddCounter(name, help string, value float64, labels map[string]string) {
	r.Metrics = append(r.Metrics, Metric{Name: name, Help: help, Type: Counter, Labels: labels, Value: value})
}
