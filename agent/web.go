package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/metrics"
	"github.com/pbxwatch/pbxwatch/agent/internal/report"
)

func newMux(d *daemon.Daemon, m *metrics.Metrics, log *slog.Logger, reloads chan chan error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		// One bad plugin metric must not cost the whole scrape.
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Healthy.\n"))
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !d.Ready() {
			http.Error(w, "Not ready.", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("Ready.\n"))
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		reply := make(chan error, 1)
		reloads <- reply
		if err := <-reply; err != nil {
			http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("Reloaded.\n"))
	})
	mux.HandleFunc("/checks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(renderChecks(d.LastRuns()))
	})
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "pbxwatch",
		Description: "Monitoring agent for FreePBX hosts",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/checks", Text: "Latest result of every check"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
	})
	if err == nil {
		mux.Handle("/", landing)
	}
	return mux
}

// renderChecks is the /checks page: every check's latest result as
// `pbxwatch check` prints it.
func renderChecks(runs []daemon.LastRun) []byte {
	var b bytes.Buffer
	for i, lr := range runs {
		if i > 0 {
			b.WriteString("\n----------------------------------------------------------------\n\n")
		}
		if lr.Result == nil {
			b.WriteString(lr.Check.Name + ": not run yet\n")
			continue
		}
		b.WriteString("(" + lr.At.UTC().Format(time.RFC3339) + ")\n")
		_ = report.WriteText(&b, report.Run{Check: lr.Check.Name, Plugin: lr.Check.Plugin, Result: lr.Result, Duration: lr.Duration})
	}
	if len(runs) == 0 {
		b.WriteString("no checks configured\n")
	}
	return b.Bytes()
}
