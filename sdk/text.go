package sdk

import (
	"sort"

	"github.com/pbxwatch/pbxwatch/sdk/bounds"
)

// Text says what one string of a Result is. Scrubbing secrets, making
// text valid UTF-8 and bounding it all walk a result's strings the same
// way, with Result.EachText.
type Text struct {
	// What names the string in pbxwatch_truncations_total{what}:
	// "summary", "message", "detail", "label_value"...
	What string
	// Max is its bound in bytes (package bounds).
	Max int
	// Free is true for text that may carry what the plugin read (a
	// server's answer, a log line): summaries, messages, remediation steps,
	// evidence and label values, which are scrubbed of secrets. It is false
	// for the identifiers the plugin chose: codes, severities, names, keys
	// and help, which scrubbing must not turn into something else.
	Free bool
}

// The strings of a Result.
var (
	textSummary      = Text{"summary", bounds.Summary, true}
	textCode         = Text{"code", bounds.Key, false}
	textSeverity     = Text{"severity", bounds.Key, false}
	textMessage      = Text{"message", bounds.Message, true}
	textRemediation  = Text{"remediation", bounds.RemediationStep, true}
	textDetail       = Text{"detail", bounds.DetailValue, true}
	textDetailKey    = Text{"detail_key", bounds.Key, false}
	textLogEvent     = Text{"event_name", bounds.Key, false}
	textMetricName   = Text{"metric_name", bounds.Key, false}
	textMetricHelp   = Text{"metric_help", bounds.RemediationStep, false}
	textLabelValue   = Text{"label_value", bounds.LabelValue, true}
	textLabelKey     = Text{"label_value_key", bounds.Key, false}
	textEventName    = Text{"event_name", bounds.Key, false}
	textEventMessage = Text{"event_message", bounds.EventMessage, true}
)

// EachText replaces every string of r, whatever it is part of (summary,
// diagnoses, metrics, events, map keys included), with f(string, what it
// is). It is the one walk over a result's strings. Lists and maps are
// rebuilt, never changed in place, so a remediation list or label map a
// plugin shares between runs or checks stays as it is; the Result's own
// fields and the elements of its Diagnoses, Metrics and Events slices are
// written.
func (r *Result) EachText(f func(s string, t Text) string) {
	r.Summary = f(r.Summary, textSummary)
	for i := range r.Diagnoses {
		d := &r.Diagnoses[i]
		d.Code = f(d.Code, textCode)
		d.Severity = Severity(f(string(d.Severity), textSeverity))
		d.Message = f(d.Message, textMessage)
		d.Remediation = eachInList(d.Remediation, textRemediation, f)
		d.Details = eachInMap(d.Details, textDetailKey, textDetail, f)
		d.LogEvent = f(d.LogEvent, textLogEvent)
	}
	for i := range r.Metrics {
		m := &r.Metrics[i]
		m.Name = f(m.Name, textMetricName)
		m.Help = f(m.Help, textMetricHelp)
		m.Labels = eachInMap(m.Labels, textLabelKey, textLabelValue, f)
	}
	for i := range r.Events {
		e := &r.Events[i]
		e.Name = f(e.Name, textEventName)
		e.Severity = Severity(f(string(e.Severity), textSeverity))
		e.Message = f(e.Message, textEventMessage)
		e.Labels = eachInMap(e.Labels, textLabelKey, textLabelValue, f)
	}
}

// ScrubText replaces every free text of r (see Text.Free) with clean(text):
// a plugin that knows more secrets than it registered, or encodings of
// them, removes them from its whole result with this.
func (r *Result) ScrubText(clean func(string) string) {
	r.EachText(func(s string, t Text) string {
		if !t.Free {
			return s
		}
		return clean(s)
	})
}

// Clean is the output boundary in one walk: it drops items past the count
// bounds, scrubs every free text with scrub, and makes every string valid
// UTF-8 within its bound, telling count (nil for none) each bound hit.
// The SDK applies it to every result it sends, and the agent again to
// every result it receives.
func (r *Result) Clean(scrub func(string) string, count bounds.Counter) {
	r.trim(count)
	r.EachText(func(s string, t Text) string {
		if t.Free && scrub != nil {
			s = scrub(s)
		}
		return bounds.Text(s, t.Max, t.What, count)
	})
}

func eachInList(l []string, t Text, f func(string, Text) string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = f(s, t)
	}
	return out
}

func eachInMap(m map[string]string, key, value Text, f func(string, Text) string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[f(k, key)] = f(v, value)
	}
	return out
}

// trim drops what is past the count bounds: diagnoses, metrics and events
// per result, remediation steps, evidence entries and labels (the entries
// kept in sorted key order, so the same ones survive every run).
func (r *Result) trim(count bounds.Counter) {
	if len(r.Diagnoses) > bounds.Diagnoses {
		r.Diagnoses = r.Diagnoses[:bounds.Diagnoses]
		tell(count, "diagnoses")
	}
	for i := range r.Diagnoses {
		d := &r.Diagnoses[i]
		if len(d.Remediation) > bounds.RemediationSteps {
			d.Remediation = d.Remediation[:bounds.RemediationSteps]
			tell(count, "remediation_entries")
		}
		d.Details = trimMap(d.Details, bounds.DetailEntries, "detail_entries", count)
	}
	if len(r.Metrics) > bounds.Metrics {
		r.Metrics = r.Metrics[:bounds.Metrics]
		tell(count, "metrics")
	}
	for i := range r.Metrics {
		r.Metrics[i].Labels = trimMap(r.Metrics[i].Labels, bounds.LabelsPerSeries, "label_value_entries", count)
	}
	if len(r.Events) > bounds.Events {
		r.Events = r.Events[:bounds.Events]
		tell(count, "events")
	}
	for i := range r.Events {
		r.Events[i].Labels = trimMap(r.Events[i].Labels, bounds.LabelsPerSeries, "label_value_entries", count)
	}
}

// trimMap returns m, or a copy of its first entries keys in sorted order
// when it has more.
func trimMap(m map[string]string, entries int, what string, count bounds.Counter) map[string]string {
	if len(m) <= entries {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, entries)
	for _, k := range keys[:entries] {
		out[k] = m[k]
	}
	tell(count, what)
	return out
}

func tell(count bounds.Counter, what string) {
	if count != nil {
		count(what)
	}
}
