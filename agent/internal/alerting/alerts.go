package alerting

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/agent/internal/truncation"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
)

// Alert names and the codes the agent itself assigns.
const (
	AlertCheckFailing = "PbxwatchCheckFailing"
	AlertLogEvent     = "PbxwatchLogEvent"
)

type kind string

const (
	kindCheck kind = "check"
	kindEvent kind = "event"
)

// alert is one alert's state. Its identity is its label set (key); the
// source fields let labels be recomputed when the config changes.
type alert struct {
	Kind   kind   `json:"kind"`
	Check  string `json:"check"`
	Plugin string `json:"plugin"`
	// Code is the diagnosis code (check alerts) or the event name (events).
	Code string `json:"code"`
	// Severity is the diagnosis' or event's own severity.
	Severity    string            `json:"severity"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// ActiveAt is when the condition was first seen (pending from then).
	ActiveAt time.Time `json:"active_at"`
	// FiredAt is zero while pending; it is the alert's startsAt.
	FiredAt    time.Time `json:"fired_at,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// LastMatch is the last event seen (events), or the last run that
	// reported the code (check alerts), for keep_firing_for.
	LastMatch time.Time `json:"last_match,omitzero"`
	// Count is the number of events since the alert fired (events only).
	Count int `json:"count,omitempty"`
	// Not persisted: after a restart everything active is sent at once.
	lastSentAt   time.Time
	sentResolved bool
}

func (a *alert) firing() bool   { return !a.FiredAt.IsZero() && a.ResolvedAt.IsZero() }
func (a *alert) pending() bool  { return a.FiredAt.IsZero() && a.ResolvedAt.IsZero() }
func (a *alert) resolved() bool { return !a.ResolvedAt.IsZero() }

// key identifies an alert by its labels, as Alertmanager does.
func key(labels map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(labels) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	return b.String()
}

// labelsFor computes an alert's labels: the built-in ones, the check's
// labels, then the external labels (which may only replace instance).
func labelsFor(a *alert, info CheckInfo, cfg Config, hostname string) map[string]string {
	l := map[string]string{"instance": hostname}
	for k, v := range info.Alert.Labels {
		l[k] = v
	}
	for k, v := range cfg.ExternalLabels {
		l[k] = v
	}
	l["check"] = a.Check
	l["plugin"] = a.Plugin
	sev := a.Severity
	if info.Alert.Severity != "" {
		sev = info.Alert.Severity
	}
	l["severity"] = sev
	switch a.Kind {
	case kindEvent:
		l["alertname"] = AlertLogEvent
		l["pattern"] = a.Code
	default:
		l["alertname"] = AlertCheckFailing
		l["code"] = a.Code
	}
	return l
}

// failures turns one run into the check alerts it asks for, keyed by
// code. keepOthers is true when the run could not check anything (the
// agent assigned every code), so alerts of the system's own codes must
// neither resolve nor change.
func failures(info CheckInfo, res *sdk.Result) (out map[string]*alert, keepOthers bool) {
	out = map[string]*alert{}
	agentOnly := true
	for _, d := range res.Diagnoses {
		if !strings.HasPrefix(d.Code, sdk.AgentCodePrefix) {
			agentOnly = false
		}
		if d.Severity != sdk.SeverityWarning && d.Severity != sdk.SeverityCritical {
			continue
		}
		if logMatch(d) != "" {
			continue // a log match alerts as PbxwatchLogEvent (logMatchEvents)
		}
		code := d.Code
		if code == "" {
			code = sdk.CodeUndiagnosed
		}
		if _, dup := out[code]; dup {
			continue // the first diagnosis of a code speaks for it
		}
		out[code] = &alert{
			Kind: kindCheck, Check: info.Name, Plugin: info.Plugin, Code: code, Severity: string(d.Severity),
			Annotations: diagnosisAnnotations(info, res, d),
		}
	}
	if res.Status != sdk.StatusOK && len(out) == 0 && !hasLogMatch(res) {
		sev := string(sdk.SeverityCritical)
		if res.Status == sdk.StatusWarning {
			sev = string(sdk.SeverityWarning)
		}
		d := sdk.Diagnosis{
			Code: sdk.CodeUndiagnosed, Message: fmt.Sprintf("check returned %s without a diagnosis: %s", res.Status, res.Summary),
			Remediation: []string{
				fmt.Sprintf("Run `pbxwatch check %s` to see the full result.", info.Name),
				"Read the agent's log for the plugin's messages around this run.",
			},
		}
		out[sdk.CodeUndiagnosed] = &alert{
			Kind: kindCheck, Check: info.Name, Plugin: info.Plugin, Code: sdk.CodeUndiagnosed, Severity: sev,
			Annotations: diagnosisAnnotations(info, res, d),
		}
	}
	keepOthers = res.Status == sdk.StatusUnknown && agentOnly
	return out, keepOthers
}

func diagnosisAnnotations(info CheckInfo, res *sdk.Result, d sdk.Diagnosis) map[string]string {
	msg := strings.TrimSpace(d.Message)
	first, _, _ := strings.Cut(msg, "\n")
	desc := msg
	if len(d.Details) > 0 {
		var b strings.Builder
		b.WriteString(msg)
		b.WriteString("\n")
		for _, k := range sortedKeys(d.Details) {
			fmt.Fprintf(&b, "\n%s: %s", k, d.Details[k])
		}
		desc = b.String()
	}
	if res.Summary != "" && res.Summary != msg {
		desc += fmt.Sprintf("\n\nCheck %s (%s): %s", info.Name, res.Status, res.Summary)
	}
	ann := map[string]string{
		"summary":     fmt.Sprintf("%s: %s", info.Name, first),
		"description": desc,
		"remediation": numbered(d.Remediation),
	}
	if info.Alert.RunbookURL != "" {
		ann["runbook_url"] = info.Alert.RunbookURL
	}
	return boundAnnotations(ann)
}

// boundAnnotations cuts each annotation to bounds.Annotation: what a
// plugin returned is bounded already, but a description joins many pieces,
// and Alertmanager, its receivers and the state file get every byte.
func boundAnnotations(ann map[string]string) map[string]string {
	for k, v := range ann {
		ann[k] = bounds.Text(v, bounds.Annotation, "annotation", truncation.Count)
	}
	return ann
}

func eventAnnotations(info CheckInfo, ev sdk.Event, count int) map[string]string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(ev.Message))
	if len(ev.Labels) > 0 {
		b.WriteString("\n")
		for _, k := range sortedKeys(ev.Labels) {
			fmt.Fprintf(&b, "\n%s: %s", k, ev.Labels[k])
		}
	}
	fmt.Fprintf(&b, "\n\nMatches since the alert fired: %d (the latest is shown).", count)
	ann := map[string]string{
		"summary":     fmt.Sprintf("%s: log pattern %s matched", info.Name, ev.Name),
		"description": b.String(),
		"count":       fmt.Sprint(count),
	}
	if info.Alert.RunbookURL != "" {
		ann["runbook_url"] = info.Alert.RunbookURL
	}
	return boundAnnotations(ann)
}

// numbered renders remediation steps as "1. …\n2. …".
func numbered(steps []string) string {
	lines := make([]string, 0, len(steps))
	for i, s := range steps {
		lines = append(lines, fmt.Sprintf("%d. %s", i+1, strings.TrimSpace(s)))
	}
	return strings.Join(lines, "\n")
}

// sortAlerts orders alerts for stable output (tests, state file).
func sortAlerts(as []*alert) {
	sort.Slice(as, func(i, j int) bool { return key(as[i].Labels) < key(as[j].Labels) })
}

// DetailPattern is the diagnosis detail that marked a log match before
// sdk.Diagnosis.LogEvent existed: plugins built with an older SDK (and
// other languages' plugins written then) still send it.
const DetailPattern = "pattern"

// logMatch is the log event a diagnosis stands for ("" for a state). Log
// matches are events, not states: they alert as PbxwatchLogEvent, one
// alert per (check, pattern), resolved after event_quiet_period without a
// new match, never also as PbxwatchCheckFailing.
func logMatch(d sdk.Diagnosis) string {
	if d.LogEvent != "" {
		return d.LogEvent
	}
	return d.Details[DetailPattern]
}

func hasLogMatch(res *sdk.Result) bool {
	for _, d := range res.Diagnoses {
		if logMatch(d) != "" && (d.Severity == sdk.SeverityWarning || d.Severity == sdk.SeverityCritical) {
			return true
		}
	}
	return false
}

// logMatchEvents is the run's events plus one for each warning or
// critical log-match diagnosis whose pattern sent no event of its own
// (a pattern without `event: true`), so each matching pattern is one
// PbxwatchLogEvent alert, whether or not it sends its lines.
func logMatchEvents(res *sdk.Result) []sdk.Event {
	sent := map[string]bool{}
	for _, ev := range res.Events {
		sent[ev.Name] = true
	}
	out := res.Events
	for _, d := range res.Diagnoses {
		p := logMatch(d)
		if p == "" || sent[p] || (d.Severity != sdk.SeverityWarning && d.Severity != sdk.SeverityCritical) {
			continue
		}
		sent[p] = true
		labels := map[string]string{}
		for _, k := range []string{"file", "sample", "count"} {
			if v, ok := d.Details[k]; ok {
				labels[k] = v
			}
		}
		out = append(out, sdk.Event{Name: p, Severity: d.Severity, Message: d.Message, Labels: labels})
	}
	return out
}
