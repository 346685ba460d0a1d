package sdk

import (
	"strings"

	"github.com/pbxwatch/pbxwatch/internal/pluginpb"
)

// splitErrors turns an error (typically errors.Join of several) into one
// scrubbed line per problem.
func splitErrors(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, Scrub(line))
		}
	}
	return out
}

// toWire converts a Result for the transport, scrubbing every string of
// registered secrets on the way out.
func toWire(r *Result) *pluginpb.CheckResponse {
	resp := &pluginpb.CheckResponse{
		Status:  pluginpb.Status(r.Status),
		Summary: Scrub(r.Summary),
	}
	if r.Status < StatusOK || r.Status > StatusUnknown {
		resp.Status = pluginpb.Status_UNKNOWN
	}
	for _, d := range r.Diagnoses {
		rem := make([]string, len(d.Remediation))
		for i, step := range d.Remediation {
			rem[i] = Scrub(step)
		}
		resp.Diagnoses = append(resp.Diagnoses, &pluginpb.Diagnosis{
			Code:        d.Code,
			Severity:    string(d.Severity),
			Message:     Scrub(d.Message),
			Remediation: rem,
			Details:     scrubMap(d.Details),
		})
	}
	for _, m := range r.Metrics {
		resp.Metrics = append(resp.Metrics, &pluginpb.Metric{
			Name:   m.Name,
			Help:   m.Help,
			Type:   pluginpb.Metric_Type(m.Type),
			Labels: scrubMap(m.Labels),
			Value:  m.Value,
		})
	}
	for _, e := range r.Events {
		ev := &pluginpb.Event{
			Name:     e.Name,
			Severity: string(e.Severity),
			Message:  Scrub(e.Message),
			Labels:   scrubMap(e.Labels),
		}
		if !e.Time.IsZero() {
			ev.TimeUnixNano = e.Time.UnixNano()
		}
		resp.Events = append(resp.Events, ev)
	}
	return resp
}

func scrubMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = Scrub(v)
	}
	return out
}
