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
		out = append(out, HeldAlert{Name: a.Labels["alertname"], State: state, Labels: labels, Summary: a.Annotations["summary"],
			ActiveAt: a.ActiveAt, FiredAt: a.FiredAt, ResolvedAt: a.ResolvedAt})
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
