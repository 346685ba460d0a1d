// Package truncation counts every bound the agent enforces when it is hit
// (pbxwatch_truncations_total{what}): a cut alert annotation or a dropped
// stderr line is visible in the metrics, not only in the cut text.
package truncation

import "github.com/prometheus/client_golang/prometheus"

// Total is pbxwatch_truncations_total; metrics.New registers it.
var Total = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "pbxwatch", Name: "truncations_total",
	Help: "Texts cut or items dropped because they exceeded a documented bound, by what was bounded (summary, message, detail, label_value, annotation, plugin_stderr_line, plugin_stderr_rate...).",
}, []string{"what"})

// Count records one hit of the bound named what.
func Count(what string) { Total.WithLabelValues(what).Inc() }
