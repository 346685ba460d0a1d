package pluginhost

import "github.com/pbxwatch/pbxwatch/sdk"

// clean is the agent's side of the output boundary: every string of a
// result, whatever plugin sent it, has the check's secrets scrubbed and is
// bounded (package bounds, each cut counted) before the agent stores,
// exports, logs or alerts on it.
func (h *Host) clean(r *sdk.Result) *sdk.Result {
	s := h.scrub
	r.Summary = s.String(r.Summary)
	for i := range r.Diagnoses {
		d := &r.Diagnoses[i]
		d.Message = s.String(d.Message)
		d.Remediation = s.Strings(d.Remediation)
		d.Details = s.Map(d.Details)
	}
	for i := range r.Metrics {
		r.Metrics[i].Labels = s.Map(r.Metrics[i].Labels)
	}
	for i := range r.Events {
		e := &r.Events[i]
		e.Message = s.String(e.Message)
		e.Labels = s.Map(e.Labels)
	}
	r.Bound(h.spec.OnTruncate)
	return r
}
