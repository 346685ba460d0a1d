package alerting

import (
	"net/url"
	"sort"
	"strings"
	"time"
)

// SetExternalURL sets the URL people reach the agent at (ending in /):
// each alert's generatorURL is then its check's status page there.
func (m *Manager) SetExternalURL(u string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u != "" && !strings.HasSuffix(u, "/") {
		u += "/"
	}
	m.externalURL = u
}

func (m *Manager) generatorURL(a *alert) string {
	if m.externalURL == "" {
		return ""
	}
	return m.externalURL + "checks/" + url.PathEscape(a.Check)
}

// HeldAlert is one alert the agent holds, for the status page.
type HeldAlert struct {
	Name       string            `json:"alertname"`
	State      string            `json:"state"` // pending, firing, resolved
	Labels     map[string]string `json:"labels"`
	Summary    string            `json:"summary"`
	ActiveAt   time.Time         `json:"active_at"`
	FiredAt    time.Time         `json:"fired_at,omitzero"`
	ResolvedAt time.Time         `json:"resolved_at,omitzero"`
	// LogEvent is set for PbxwatchLogEvent alerts: what the status page
	// shows beside a check whose last run may well be OK.
	LogEvent *HeldLogEvent `json:"log_event,omitempty"`
}

// HeldLogEvent is a log event alert's pattern, how often it matched, the
// latest match as the plugin reported it (its line redacted by the plugin)
// and until when the alert stays firing if nothing matches again.
type HeldLogEvent struct {
	Pattern   string    `json:"pattern"`
	Count     int       `json:"count"`
	Latest    string    `json:"latest"`
	LastMatch time.Time `json:"last_match"`
	Until     time.Time `json:"until,omitzero"`
}

// FiringLogEvents are the held alerts of log events that still fire.
func FiringLogEvents(held []HeldAlert) []HeldAlert {
	var out []HeldAlert
	for _, a := range held {
		if a.LogEvent != nil && a.State == "firing" {
			out = append(out, a)
		}
	}
	return out
}

// Held returns the alerts held for check (every check if ""), firing
// first, then pending, then resolved ones still being re-sent.
func (m *Manager) Held(check string) []HeldAlert {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []HeldAlert
	for _, a := range m.alerts {
		if check != "" && a.Check != check {
			continue
		}
		state := "firing"
		switch {
		case a.resolved():
			state = "resolved"
		case a.pending():
			state = "pending"
		}
		labels := make(map[string]string, len(a.Labels))
		for k, v := range a.Labels {
			labels[k] = v
		}
		h := HeldAlert{Name: a.Labels["alertname"], State: state, Labels: labels, Summary: a.Annotations["summary"],
			ActiveAt: a.ActiveAt, FiredAt: a.FiredAt, ResolvedAt: a.ResolvedAt}
		if a.Kind == kindEvent {
			h.LogEvent = &HeldLogEvent{Pattern: a.Code, Count: a.Count, Latest: latestMatch(a.Annotations["description"]), LastMatch: a.LastMatch}
			if a.firing() {
				h.LogEvent.Until = a.LastMatch.Add(m.cfg.EventQuietPeriod)
			}
		}
		out = append(out, h)
	}
	rank := map[string]int{"firing": 0, "pending": 1, "resolved": 2}
	sort.Slice(out, func(i, j int) bool {
		if rank[out[i].State] != rank[out[j].State] {
			return rank[out[i].State] < rank[out[j].State]
		}
		return out[i].ActiveAt.After(out[j].ActiveAt)
	})
	return out
}

// Delivery is how sending to one Alertmanager goes, for the status page.
type Delivery struct {
	URL         string    `json:"url"` // credentials in it redacted
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// OK reports whether the latest POST succeeded (or none failed yet).
func (d Delivery) OK() bool { return d.LastErrorAt.IsZero() || d.LastSuccess.After(d.LastErrorAt) }

// Deliveries lists the configured Alertmanagers and how sending to each
// goes; empty when alerting is not configured.
func (m *Manager) Deliveries() []Delivery {
	m.mu.Lock()
	senders := make([]*sender, 0, len(m.senders))
	for _, s := range m.senders {
		senders = append(senders, s)
	}
	m.mu.Unlock()
	out := make([]Delivery, 0, len(senders))
	for _, s := range senders {
		s.mu.Lock()
		d := Delivery{URL: redact(s.cfg.URL), LastSuccess: s.lastOK, LastErrorAt: s.lastErrTime,
			LastError: strings.ReplaceAll(s.lastErr, s.endpoint, redact(s.endpoint))}
		s.mu.Unlock()
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// latestMatch is the part of a log event's description that reports the
// latest match (eventAnnotations writes it first, before the count).
func latestMatch(description string) string {
	latest, _, _ := strings.Cut(description, "\n\nMatches since the alert fired:")
	return latest
}
