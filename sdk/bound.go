package sdk

import "github.com/pbxwatch/pbxwatch/sdk/bounds"

// Bound makes every string of r valid UTF-8 (invalid bytes shown as \xNN)
// and cuts it to the bounds of package bounds, dropping items past their
// count bounds; count (nil for none) is told each bound hit. Serve applies
// it to every result, and the agent again to whatever a plugin returns:
// plugin authors need not call it.
func (r *Result) Bound(count bounds.Counter) {
	r.Summary = bounds.Text(r.Summary, bounds.Summary, "summary", count)
	if len(r.Diagnoses) > bounds.Diagnoses {
		r.Diagnoses = r.Diagnoses[:bounds.Diagnoses]
		tell(count, "diagnoses")
	}
	for i := range r.Diagnoses {
		d := &r.Diagnoses[i]
		d.Code = bounds.Text(d.Code, bounds.Key, "code", count)
		d.Severity = Severity(bounds.Text(string(d.Severity), bounds.Key, "severity", count))
		d.Message = bounds.Text(d.Message, bounds.Message, "message", count)
		if d.Remediation != nil {
			d.Remediation = bounds.List(d.Remediation, bounds.RemediationSteps, bounds.RemediationStep, "remediation", count)
		}
		d.Details = bounds.Map(d.Details, bounds.DetailEntries, bounds.DetailValue, "detail", count)
		d.LogEvent = bounds.Text(d.LogEvent, bounds.Key, "event_name", count)
	}
	if len(r.Metrics) > bounds.Metrics {
		r.Metrics = r.Metrics[:bounds.Metrics]
		tell(count, "metrics")
	}
	for i := range r.Metrics {
		m := &r.Metrics[i]
		m.Name = bounds.Text(m.Name, bounds.Key, "metric_name", count)
		m.Help = bounds.Text(m.Help, bounds.RemediationStep, "metric_help", count)
		m.Labels = bounds.Map(m.Labels, bounds.LabelsPerSeries, bounds.LabelValue, "label_value", count)
	}
	if len(r.Events) > bounds.Events {
		r.Events = r.Events[:bounds.Events]
		tell(count, "events")
	}
	for i := range r.Events {
		e := &r.Events[i]
		e.Name = bounds.Text(e.Name, bounds.Key, "event_name", count)
		e.Severity = Severity(bounds.Text(string(e.Severity), bounds.Key, "severity", count))
		e.Message = bounds.Text(e.Message, bounds.EventMessage, "event_message", count)
		e.Labels = bounds.Map(e.Labels, bounds.LabelsPerSeries, bounds.LabelValue, "label_value", count)
	}
}

func tell(count bounds.Counter, what string) {
	if count != nil {
		count(what)
	}
}
