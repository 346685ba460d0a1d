package metrics

import (
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// pluginCollector exports the latest metrics each check's plugin returned.
// Samples are validated and turned into const metrics when a result arrives,
// so a scrape only copies what is ready.
type pluginCollector struct {
	log *slog.Logger

	mu      sync.RWMutex
	byCheck map[string][]prometheus.Metric
	// families fixes each metric name's type and help to what the first
	// check exporting it said: one family cannot mix them in an exposition.
	families map[string]family
	warned   map[string]bool
}

type family struct {
	typ  sdk.MetricType
	help string
}

func newPluginCollector(log *slog.Logger) *pluginCollector {
	return &pluginCollector{log: log, byCheck: map[string][]prometheus.Metric{}, families: map[string]family{}, warned: map[string]bool{}}
}

// Describe sends nothing: the set of plugin metrics is not known ahead, which
// makes this an unchecked collector.
func (c *pluginCollector) Describe(chan<- *prometheus.Desc) {}

func (c *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, ms := range c.byCheck {
		for _, m := range ms {
			ch <- m
		}
	}
}

func (c *pluginCollector) retain(keep map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for check := range c.byCheck {
		if _, ok := keep[check]; !ok {
			delete(c.byCheck, check)
		}
	}
}

// set replaces a check's exported samples with those of its latest result.
func (c *pluginCollector) set(check string, samples []sdk.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]prometheus.Metric, 0, len(samples))
	seen := make(map[string]bool, len(samples))
	for _, s := range samples {
		m, key, reason := c.build(check, s)
		if reason == "" && seen[key] {
			reason = "duplicate series in one result"
		}
		if reason != "" {
			c.warnOnce(check, s.Name, reason)
			continue
		}
		seen[key] = true
		out = append(out, m)
	}
	c.byCheck[check] = out
}

// build validates one sample and makes its const metric. The key identifies
// the series; reason is non-empty when the sample must be dropped.
func (c *pluginCollector) build(check string, s sdk.Metric) (m prometheus.Metric, key, reason string) {
	if !model.LegacyValidation.IsValidMetricName(s.Name) {
		return nil, "", "invalid metric name"
	}
	if strings.HasPrefix(s.Name, Namespace+"_") {
		return nil, "", "the pbxwatch_ prefix is reserved for the agent's own metrics"
	}
	fam, ok := c.families[s.Name]
	if !ok {
		fam = family{typ: s.Type, help: s.Help}
		if fam.help == "" {
			fam.help = "Reported by a pbxwatch check plugin."
		}
		c.families[s.Name] = fam
	} else if fam.typ != s.Type {
		return nil, "", "another check exports this name as a " + fam.typ.String()
	}
	names := make([]string, 0, len(s.Labels)+1)
	for k := range s.Labels {
		if !model.LegacyValidation.IsValidLabelName(k) || strings.HasPrefix(k, "__") {
			return nil, "", "invalid label name " + k
		}
		names = append(names, k)
	}
	sort.Strings(names)
	labels := make([]string, 0, len(names)+1)
	values := make([]string, 0, len(names)+1)
	for _, k := range names {
		// A plugin label called "check" would clash with the one the agent
		// adds; keep it as exported_check, as Prometheus does on clashes.
		name := k
		if k == "check" {
			name = "exported_check"
		}
		labels = append(labels, name)
		values = append(values, s.Labels[k])
	}
	labels = append(labels, "check")
	values = append(values, check)
	vt := prometheus.GaugeValue
	if s.Type == sdk.Counter {
		vt = prometheus.CounterValue
	}
	desc := prometheus.NewDesc(s.Name, fam.help, labels, nil)
	metric, err := prometheus.NewConstMetric(desc, vt, s.Value, values...)
	if err != nil {
		return nil, "", err.Error()
	}
	return metric, s.Name + "\xff" + strings.Join(labels, "\xff") + "\xff" + strings.Join(values, "\xff"), ""
}

func (c *pluginCollector) warnOnce(check, name, reason string) {
	k := check + "\xff" + name + "\xff" + reason
	if c.warned[k] {
		return
	}
	c.warned[k] = true
	c.log.Warn("dropping plugin metric", "check", check, "metric", name, "reason", reason)
}
