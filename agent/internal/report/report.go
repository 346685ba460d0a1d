// Package report renders a check result for people (text) and for programs
// (JSON), as `pbxwatch check` prints it.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Run is one check run to render.
type Run struct {
	Check    string
	Plugin   string
	Result   *sdk.Result
	Duration time.Duration
}

// JSONRun is a run as `pbxwatch check --output=json` prints it (the
// status page's API embeds it); field names are part of the CLI's contract.
type JSONRun struct {
	Check     string          `json:"check"`
	Plugin    string          `json:"plugin"`
	Status    string          `json:"status"`
	Summary   string          `json:"summary"`
	Diagnoses []jsonDiagnosis `json:"diagnoses"`
	Metrics   []jsonMetric    `json:"metrics"`
	Events    []jsonEvent     `json:"events"`
	Duration  float64         `json:"duration_seconds"`
}

type jsonDiagnosis struct {
	Code        string            `json:"code"`
	Severity    string            `json:"severity"`
	Message     string            `json:"message"`
	Remediation []string          `json:"remediation"`
	Details     map[string]string `json:"details"`
}

type jsonMetric struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
}

type jsonEvent struct {
	Name     string            `json:"name"`
	Severity string            `json:"severity"`
	Message  string            `json:"message"`
	Labels   map[string]string `json:"labels"`
	Time     *time.Time        `json:"time,omitempty"`
}

// WriteJSON writes the run as one indented JSON object. Empty lists are
// [] and empty maps {}, never null, so consumers need no special cases.
func WriteJSON(w io.Writer, r Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewJSON(r))
}

// NewJSON is the run in its JSON shape.
func NewJSON(r Run) JSONRun {
	out := JSONRun{
		Check: r.Check, Plugin: r.Plugin, Status: r.Result.Status.String(), Summary: r.Result.Summary,
		Diagnoses: []jsonDiagnosis{}, Metrics: []jsonMetric{}, Events: []jsonEvent{},
		Duration: r.Duration.Seconds(),
	}
	for _, d := range r.Result.Diagnoses {
		out.Diagnoses = append(out.Diagnoses, jsonDiagnosis{
			Code: d.Code, Severity: string(d.Severity), Message: d.Message,
			Remediation: nonNil(d.Remediation), Details: nonNilMap(d.Details),
		})
	}
	for _, m := range r.Result.Metrics {
		out.Metrics = append(out.Metrics, jsonMetric{Name: m.Name, Type: m.Type.String(), Labels: nonNilMap(m.Labels), Value: m.Value})
	}
	for _, e := range r.Result.Events {
		ev := jsonEvent{Name: e.Name, Severity: string(e.Severity), Message: e.Message, Labels: nonNilMap(e.Labels)}
		if !e.Time.IsZero() {
			t := e.Time.UTC()
			ev.Time = &t
		}
		out.Events = append(out.Events, ev)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// WriteText writes the run for a person at a terminal: the status line a
// Nagios plugin would print first, then each diagnosis with its evidence and
// numbered fix, then the metrics.
func WriteText(w io.Writer, r Run) error {
	var b strings.Builder
	res := r.Result
	fmt.Fprintf(&b, "%s %s: %s\n", r.Check, res.Status, res.Summary)
	fmt.Fprintf(&b, "  plugin %s, took %s\n", r.Plugin, r.Duration.Round(time.Millisecond))
	for _, d := range res.Diagnoses {
		fmt.Fprintf(&b, "\n[%s] %s\n", strings.ToUpper(string(d.Severity)), d.Code)
		writeWrapped(&b, "  ", d.Message)
		if len(d.Details) > 0 {
			b.WriteString("  Evidence:\n")
			for _, k := range sortedKeys(d.Details) {
				fmt.Fprintf(&b, "    %s: %s\n", k, d.Details[k])
			}
		}
		if len(d.Remediation) > 0 {
			b.WriteString("  How to fix:\n")
			for i, step := range d.Remediation {
				writeWrapped(&b, fmt.Sprintf("    %d. ", i+1), step)
			}
		}
	}
	if len(res.Events) > 0 {
		fmt.Fprintf(&b, "\nEvents (%d):\n", len(res.Events))
		for _, e := range res.Events {
			fmt.Fprintf(&b, "  [%s] %s: %s\n", e.Severity, e.Name, e.Message)
		}
	}
	if len(res.Metrics) > 0 {
		b.WriteString("\nMetrics:\n")
		for _, m := range res.Metrics {
			fmt.Fprintf(&b, "  %s%s %g\n", m.Name, labelString(m.Labels), m.Value)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeWrapped writes text after prefix, continuing lines indented to the
// prefix's width, so multi-line messages stay readable.
func writeWrapped(b *strings.Builder, prefix, text string) {
	indent := strings.Repeat(" ", len(prefix))
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if i == 0 {
			b.WriteString(prefix)
		} else {
			b.WriteString(indent)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

func labelString(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	parts := make([]string, 0, len(l))
	for _, k := range sortedKeys(l) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
