package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Manager holds the alerts of every check and sends them to the
// configured Alertmanagers. Its methods are safe for concurrent use.
type Manager struct {
	log       *slog.Logger
	stateFile string // "" keeps state in memory only
	hostname  string
	metrics   *metrics
	now       func() time.Time

	mu       sync.Mutex
	cfg      Config
	checks   map[string]CheckInfo // nil until SetChecks
	alerts   map[string]*alert    // by key(labels)
	senders  map[string]*sender   // by URL
	running  bool
	queueCap int

	wake chan struct{} // an alert fired or resolved: send now

	// externalURL is --web.external-url: alerts' generatorURL is the
	// check's page under it.
	externalURL string
}

// New makes a Manager, loading the alerts saved in stateDir (created if
// missing; "" keeps them in memory only). reg may be nil.
func New(cfg Config, stateDir string, logger *slog.Logger, reg prometheus.Registerer) (*Manager, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	met, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("alerting metrics: %w", err)
	}
	m := &Manager{
		log: logger, hostname: host, metrics: met, now: time.Now,
		alerts: map[string]*alert{}, senders: map[string]*sender{},
		wake: make(chan struct{}, 1), queueCap: defaultQueueCapacity,
	}
	if stateDir != "" {
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return nil, fmt.Errorf("alerting state dir: %w", err)
		}
		m.stateFile = filepath.Join(stateDir, stateFileName)
		saved, err := loadState(m.stateFile)
		if err != nil {
			// Losing alert state must not keep the agent from monitoring:
			// failing checks fire again on their next run.
			logger.Error("starting with no alerts: the saved alert state is unreadable", "err", err)
			_ = os.Rename(m.stateFile, m.stateFile+".corrupt")
		}
		for _, a := range saved {
			m.alerts[key(a.Labels)] = a
		}
	}
	if err := m.ApplyConfig(cfg); err != nil {
		return nil, err
	}
	return m, nil
}

// ApplyConfig swaps in a new `alerting:` block: Alertmanagers whose entry
// is unchanged keep their queue; alerts are relabelled if the external
// labels changed.
func (m *Manager) ApplyConfig(cfg Config) error {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := map[string]*sender{}
	added := false
	for _, am := range cfg.Alertmanagers {
		if old, ok := m.senders[am.URL]; ok && sameAM(old.cfg, am) {
			next[am.URL] = old
			continue
		}
		s, err := newSender(am, m.log, m.metrics, m.queueCap)
		if err != nil {
			return err
		}
		next[am.URL] = s
		added = true
	}
	if added {
		// A new Alertmanager learns of every alert now, not a resend
		// interval later; the others just see one early resend.
		for _, a := range m.alerts {
			a.lastSentAt, a.sentResolved = time.Time{}, false
		}
	}
	for url, old := range m.senders {
		if next[url] != old {
			old.close(false)
			if _, kept := next[url]; !kept {
				m.metrics.forget(url)
			}
		}
	}
	m.senders = next
	if m.running {
		for _, s := range next {
			s.start()
		}
	}
	m.cfg = cfg
	m.relabel(m.now())
	m.changed()
	return nil
}

// sameAM reports whether two entries would send identically, so a reload
// keeps the queue of an unchanged Alertmanager.
func sameAM(a, b AlertmanagerConfig) bool {
	if (a.BasicAuth == nil) != (b.BasicAuth == nil) || (a.BasicAuth != nil && *a.BasicAuth != *b.BasicAuth) {
		return false
	}
	a.BasicAuth, b.BasicAuth = nil, nil
	return a == b
}

// SetChecks tells the Manager which checks are configured: alerts of
// checks no longer there resolve, and alerts whose labels changed (the
// check's alert block) resolve under the old labels and continue under
// the new ones.
func (m *Manager) SetChecks(checks []CheckInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checks = make(map[string]CheckInfo, len(checks))
	for _, c := range checks {
		m.checks[c.Name] = c
	}
	m.relabel(m.now())
	m.changed()
}

// relabel recomputes the labels of active alerts; m.mu is held.
func (m *Manager) relabel(now time.Time) {
	if m.checks == nil {
		return
	}
	for k, a := range m.alerts {
		if a.resolved() {
			continue
		}
		info, ok := m.checks[a.Check]
		if !ok {
			m.resolve(k, a, now)
			continue
		}
		labels := labelsFor(a, info, m.cfg, m.hostname)
		nk := key(labels)
		if nk == k {
			continue
		}
		moved := *a
		moved.Labels = labels
		moved.lastSentAt = time.Time{}
		if moved.firing() {
			moved.FiredAt = now // a new label set is a new alert to Alertmanager
		}
		m.resolve(k, a, now)
		m.alerts[nk] = &moved
	}
}

// resolve ends an alert; a pending one simply goes (it was never sent).
func (m *Manager) resolve(k string, a *alert, now time.Time) {
	if a.pending() {
		delete(m.alerts, k)
		return
	}
	a.ResolvedAt = now
	a.sentResolved = false
	m.log.Info("alert resolved", "alertname", a.Labels["alertname"], "check", a.Check, "code", a.Code)
}

// Observe records one finished run of a check: failing diagnoses fire
// (after the check's `for`), codes no longer reported resolve, and events
// fire log event alerts. It persists any change before returning and never
// waits for the network.
func (m *Manager) Observe(check CheckInfo, res *sdk.Result, at time.Time) {
	if res == nil {
		return
	}
	for _, d := range res.Diagnoses {
		if d.Code == sdk.CodeAgentStopping {
			return // the run was cut short by the agent itself
		}
	}
	want, keepOthers := failures(check, res)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.checks != nil {
		m.checks[check.Name] = check
	}
	changed := false
	seen := map[string]bool{}
	for _, w := range want {
		w.Labels = labelsFor(w, check, m.cfg, m.hostname)
		k := key(w.Labels)
		seen[k] = true
		a := m.alerts[k]
		if a == nil || a.resolved() {
			w.ActiveAt = at
			m.alerts[k] = w
			a, changed = w, true
		} else {
			a.Annotations = w.Annotations
		}
		a.LastMatch = at
		if a.pending() && at.Sub(a.ActiveAt) >= check.Alert.For {
			a.FiredAt = at
			changed = true
			m.log.Info("alert firing", "alertname", AlertCheckFailing, "check", a.Check, "code", a.Code)
		}
	}
	for k, a := range m.alerts {
		if a.Kind != kindCheck || a.Check != check.Name || a.resolved() || seen[k] {
			continue
		}
		if keepOthers && !strings.HasPrefix(a.Code, sdk.AgentCodePrefix) {
			continue // the run checked nothing: the system's failures stand
		}
		if a.firing() && at.Sub(a.LastMatch) < check.Alert.KeepFiringFor {
			continue // keep_firing_for: not gone long enough
		}
		m.resolve(k, a, at)
		changed = true
	}
	for _, ev := range logMatchEvents(res) {
		if m.observeEvent(check, ev, at) {
			changed = true
		}
	}
	if changed {
		m.changed()
	}
}

// ObserveEvents records events a check's plugin sent between its runs (a
// followed log's matched lines): each fires its log event alert, or
// refreshes a firing one, and is sent to Alertmanager at once rather than
// at the next resend, so the new line's count and sample arrive with it.
func (m *Manager) ObserveEvents(check CheckInfo, evs []sdk.Event, at time.Time) {
	if len(evs) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ev := range evs {
		m.observeEvent(check, ev, at)
		w := &alert{Kind: kindEvent, Check: check.Name, Plugin: check.Plugin, Code: eventName(ev), Severity: eventSeverity(ev)}
		if a := m.alerts[key(labelsFor(w, check, m.cfg, m.hostname))]; a != nil {
			a.lastSentAt = time.Time{} // due now
		}
	}
	m.changed()
}

func eventName(ev sdk.Event) string {
	if ev.Name == "" {
		return "unnamed"
	}
	return ev.Name
}

func eventSeverity(ev sdk.Event) string {
	if ev.Severity == "" {
		return string(sdk.SeverityWarning)
	}
	return string(ev.Severity)
}

// observeEvent fires or refreshes a log event alert; it reports whether a
// new alert fired.
func (m *Manager) observeEvent(check CheckInfo, ev sdk.Event, at time.Time) bool {
	sev, name := eventSeverity(ev), eventName(ev)
	w := &alert{Kind: kindEvent, Check: check.Name, Plugin: check.Plugin, Code: name, Severity: sev}
	w.Labels = labelsFor(w, check, m.cfg, m.hostname)
	k := key(w.Labels)
	if a := m.alerts[k]; a != nil && !a.resolved() {
		a.LastMatch = at
		a.Count++
		a.Annotations = eventAnnotations(check, ev, a.Count)
		return false
	}
	w.ActiveAt, w.FiredAt, w.LastMatch, w.Count = at, at, at, 1
	w.Annotations = eventAnnotations(check, ev, 1)
	m.alerts[k] = w
	m.log.Info("alert firing", "alertname", AlertLogEvent, "check", check.Name, "pattern", name)
	return true
}

// changed persists the state, updates the gauges and wakes the send loop;
// m.mu is held.
func (m *Manager) changed() {
	counts := map[string]int{}
	list := make([]*alert, 0, len(m.alerts))
	for _, a := range m.alerts {
		list = append(list, a)
		switch {
		case a.resolved():
			counts["resolved"]++
		case a.pending():
			counts["pending"]++
		default:
			counts["firing"]++
		}
	}
	for _, s := range []string{"pending", "firing", "resolved"} {
		m.metrics.alerts.WithLabelValues(s).Set(float64(counts[s]))
	}
	if m.stateFile != "" {
		sortAlerts(list)
		if err := saveState(m.stateFile, list); err != nil {
			m.log.Error("could not save alert state; a restart may lose or repeat alerts", "err", err)
		}
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// tick ends quiet log event alerts, forgets resolved alerts past their
// retention, and queues what is due to each Alertmanager.
func (m *Manager) tick(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := false
	for k, a := range m.alerts {
		switch {
		case a.Kind == kindEvent && a.firing() && now.Sub(a.LastMatch) >= m.cfg.EventQuietPeriod:
			m.resolve(k, a, now)
			changed = true
		case a.resolved() && now.Sub(a.ResolvedAt) >= ResolvedRetention:
			delete(m.alerts, k)
			changed = true
		}
	}
	if changed {
		m.changed()
	}
	due := m.due(now)
	if len(due) == 0 {
		return
	}
	for _, s := range m.senders {
		s.enqueue(due)
	}
}

// due lists the alerts to send now: firing ones not sent for a resend
// interval, resolved ones not yet sent as resolved or due for a re-send.
// Pending alerts are never sent. m.mu is held.
func (m *Manager) due(now time.Time) []postableAlert {
	resend := m.cfg.ResendInterval
	var out []postableAlert
	var list []*alert
	for _, a := range m.alerts {
		list = append(list, a)
	}
	sortAlerts(list)
	for _, a := range list {
		switch {
		case a.firing():
			if !a.lastSentAt.IsZero() && now.Sub(a.lastSentAt) < resend {
				continue
			}
			out = append(out, postableAlert{Labels: a.Labels, Annotations: m.sentAnnotations(a), StartsAt: a.FiredAt, EndsAt: now.Add(4 * resend), GeneratorURL: m.generatorURL(a)})
		case a.resolved() && !a.FiredAt.IsZero():
			if a.sentResolved && now.Sub(a.lastSentAt) < resend {
				continue
			}
			a.sentResolved = true
			out = append(out, postableAlert{Labels: a.Labels, Annotations: m.sentAnnotations(a), StartsAt: a.FiredAt, EndsAt: a.ResolvedAt, GeneratorURL: m.generatorURL(a)})
		default:
			continue
		}
		a.lastSentAt = now
	}
	return out
}

// sentAnnotations are a's annotations with its runbook_url and its
// check's alert.annotations; m.mu is held.
func (m *Manager) sentAnnotations(a *alert) map[string]string {
	return sentAnnotations(a, m.checks[a.Check].Alert, m.cfg.RunbookBaseURL)
}

// Run sends alerts until ctx is done, then queues what is due one last
// time and gives each Alertmanager up to its timeout to take it.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.running = true
	for _, s := range m.senders {
		s.start()
	}
	m.mu.Unlock()
	interval := m.tickInterval()
	t := time.NewTicker(interval)
	defer t.Stop()
	m.tick(m.now())
	for {
		select {
		case <-ctx.Done():
			m.tick(m.now())
			m.mu.Lock()
			m.running = false
			senders := m.senders
			m.senders = map[string]*sender{}
			cfg := m.cfg
			m.mu.Unlock()
			var wg sync.WaitGroup
			for _, s := range senders {
				wg.Go(func() { s.close(true) })
			}
			wg.Wait()
			// Run may be called again (tests, or a daemon restarting its
			// loops): rebuild the senders, unstarted.
			m.mu.Lock()
			m.senders = map[string]*sender{}
			for _, am := range cfg.Alertmanagers {
				if s, err := newSender(am, m.log, m.metrics, m.queueCap); err == nil {
					m.senders[am.URL] = s
				}
			}
			m.mu.Unlock()
			return
		case <-m.wake:
		case <-t.C:
		}
		m.tick(m.now())
		if i := m.tickInterval(); i != interval { // resend_interval reloaded
			interval = i
			t.Reset(i)
		}
	}
}

// tickInterval is how often Run looks for alerts due: often enough that a
// resend is at most a quarter interval late.
func (m *Manager) tickInterval() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return max(min(time.Second, m.cfg.ResendInterval/4), 10*time.Millisecond)
}
