package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/metrics"
	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite"
	"github.com/pbxwatch/pbxwatch/agent/internal/report"
)

// webOptions is what the HTTP handlers need from the daemon's options.
type webOptions struct {
	lifecycle   bool            // --web.enable-lifecycle
	externalURL *url.URL        // --web.external-url; its path is the route prefix
	reloads     chan chan error // POST /-/reload asks the main loop through here
	quit        chan struct{}   // POST /-/quit closes it (once)
	alerts      func() *alerting.Manager
	remoteWrite func() []remotewrite.Status // each receiver's state
}

func newMux(d *daemon.Daemon, m *metrics.Metrics, log *slog.Logger, o webOptions) http.Handler {
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
	mux.Handle("/-/reload", lifecycleHandler(o.lifecycle, func(w http.ResponseWriter, _ *http.Request) {
		reply := make(chan error, 1)
		o.reloads <- reply
		if err := <-reply; err != nil {
			http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("Reloaded.\n"))
	}))
	var quitOnce sync.Once
	mux.Handle("/-/quit", lifecycleHandler(o.lifecycle, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Requesting termination... Goodbye!\n"))
		quitOnce.Do(func() { close(o.quit) })
	}))
	mux.HandleFunc("/checks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(renderChecks(d.LastRuns()))
	})
	mux.HandleFunc("/api/v1/remote_write", func(w http.ResponseWriter, _ *http.Request) {
		var st []remotewrite.Status
		if o.remoteWrite != nil {
			st = o.remoteWrite()
		}
		if st == nil {
			st = []remotewrite.Status{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	// The agent serves no /debug/pprof: a profile is not worth the
	// exposure on an operator's PBX (docs/design.md).
	(&statusSource{d: d, alerts: o.alerts, remoteWrite: o.remoteWrite, prefix: o.externalURL.Path, log: log}).register(mux)
	return withRoutePrefix(o.externalURL.Path, mux)
}

// lifecycleHandler guards an endpoint that changes the daemon's state the
// way Prometheus does: POST or PUT only (405 otherwise), and only with
// --web.enable-lifecycle (403 otherwise).
func lifecycleHandler(enabled bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Only POST or PUT requests allowed.", http.StatusMethodNotAllowed)
			return
		}
		if !enabled {
			http.Error(w, "Lifecycle API is not enabled (start pbxwatch with --web.enable-lifecycle).", http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

// withRoutePrefix serves h under prefix (the path of --web.external-url),
// redirecting / there, as Prometheus does behind a reverse proxy.
func withRoutePrefix(prefix string, h http.Handler) http.Handler {
	if prefix == "/" || prefix == "" {
		return h
	}
	outer := http.NewServeMux()
	outer.Handle(prefix, http.StripPrefix(strings.TrimSuffix(prefix, "/"), h))
	outer.Handle("/{$}", http.RedirectHandler(prefix, http.StatusFound))
	return outer
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
