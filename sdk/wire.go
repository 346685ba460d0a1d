package sdk

import (
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk/bounds"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// maxConfigErrors bounds the problems one Configure reports.
const maxConfigErrors = 100

// splitErrors turns an error (typically errors.Join of several) into one
// scrubbed, valid and bounded line per problem.
func splitErrors(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, errorText(line))
		}
		if len(out) == maxConfigErrors {
			out = append(out, "(more problems not shown)")
			break
		}
	}
	return out
}

// errorText is an error's text as it may leave the plugin.
func errorText(s string) string {
	return bounds.Text(Scrub(bounds.Valid(s)), bounds.Message, "error", nil)
}

// toWire converts a Result for the transport. Every string is scrubbed of
// registered secrets, made valid UTF-8 and bounded on the way out: this is
// the plugin's one output boundary.
func toWire(res *Result) *pluginv1.CheckResponse {
	r := res.copyItems()
	r.Clean(Scrub, nil)
	resp := &pluginv1.CheckResponse{
		Status:  pluginv1.Status(r.Status),
		Summary: r.Summary,
	}
	if r.Status < StatusOK || r.Status > StatusUnknown {
		resp.Status = pluginv1.Status_UNKNOWN
	}
	for _, d := range r.Diagnoses {
		resp.Diagnoses = append(resp.Diagnoses, &pluginv1.Diagnosis{
			Code:        d.Code,
			Severity:    string(d.Severity),
			Message:     d.Message,
			Remediation: d.Remediation,
			Details:     d.Details,
			LogEvent:    d.LogEvent,
		})
	}
	for _, m := range r.Metrics {
		resp.Metrics = append(resp.Metrics, &pluginv1.Metric{
			Name:   m.Name,
			Help:   m.Help,
			Type:   pluginv1.Metric_Type(m.Type),
			Labels: m.Labels,
			Value:  m.Value,
		})
	}
	for _, e := range r.Events {
		ev := &pluginv1.Event{
			Name:     e.Name,
			Severity: string(e.Severity),
			Message:  e.Message,
			Labels:   e.Labels,
		}
		if !e.Time.IsZero() {
			ev.TimeUnixNano = e.Time.UnixNano()
		}
		resp.Events = append(resp.Events, ev)
	}
	return resp
}

// copyItems returns a copy of r whose Diagnoses, Metrics and Events are
// copies too, so that cleaning it leaves the plugin's own Result as it is.
func (r *Result) copyItems() *Result {
	out := *r
	out.Diagnoses = append([]Diagnosis(nil), r.Diagnoses...)
	out.Metrics = append([]Metric(nil), r.Metrics...)
	out.Events = append([]Event(nil), r.Events...)
	return &out
}
