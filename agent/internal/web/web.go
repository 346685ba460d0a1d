// Package web is the agent's HTTP side: /metrics, the health and
// lifecycle endpoints, the status pages for people (/, /checks/{name}),
// their JSON twin (/api/v1/checks) and the plain-text /checks, all under
// the route prefix of --web.external-url.
package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite"
	"github.com/pbxwatch/pbxwatch/agent/internal/report"
)

// Checks is what the pages read of the daemon (*daemon.Daemon).
type Checks interface {
	// LastRuns is every configured check's latest run, in config order.
	LastRuns() []daemon.LastRun
	// Ready says whether the first configuration is loaded.
	Ready() bool
}

// Alerts is what the pages read of the alerting manager
// (*alerting.Manager).
type Alerts interface {
	Held(check string) []alerting.HeldAlert
	Deliveries() []alerting.Delivery
}

// Options is what the handler needs from the daemon's wiring.
type Options struct {
	Checks   Checks
	Registry *prometheus.Registry // served as /metrics
	Logger   *slog.Logger
	// Lifecycle is --web.enable-lifecycle: POST /-/reload and /-/quit.
	Lifecycle bool
	// ExternalURL is --web.external-url; its path is the route prefix.
	ExternalURL *url.URL
	// Reload reloads the configuration (POST /-/reload); an error keeps
	// the running configuration and is shown to the caller.
	Reload func() error
	// Quit asks the daemon to stop (POST /-/quit); called at most once.
	Quit func()
	// Alerts is the alerting manager, or nil while there is none (before
	// the first config load). A nil func means no alerting at all.
	Alerts func() Alerts
	// RemoteWrite is each remote_write receiver's state (nil: none).
	RemoteWrite func() []remotewrite.Status
	// Fleet is the fleet view of the running config, nil without a
	// fleet: block (the func itself may be nil too).
	Fleet func() Fleet
}

// NewHandler is the agent's whole HTTP surface.
func NewHandler(o Options) http.Handler {
	log, d := o.Logger, o.Checks
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	alerts := o.Alerts
	if alerts == nil {
		alerts = func() Alerts { return nil }
	}
	prefix := "/"
	if o.ExternalURL != nil {
		prefix = o.ExternalURL.Path
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{
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
	mux.Handle("/-/reload", lifecycleHandler(o.Lifecycle, func(w http.ResponseWriter, _ *http.Request) {
		if err := o.Reload(); err != nil {
			http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("Reloaded.\n"))
	}))
	var quitOnce sync.Once
	mux.Handle("/-/quit", lifecycleHandler(o.Lifecycle, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Requesting termination... Goodbye!\n"))
		quitOnce.Do(o.Quit)
	}))
	mux.HandleFunc("/checks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(renderChecks(d.LastRuns()))
	})
	mux.HandleFunc("/api/v1/remote_write", func(w http.ResponseWriter, _ *http.Request) {
		var st []remotewrite.Status
		if o.RemoteWrite != nil {
			st = o.RemoteWrite()
		}
		if st == nil {
			st = []remotewrite.Status{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	// The agent serves no /debug/pprof: a profile is not worth the
	// exposure on an operator's PBX (docs/design.md).
	fleetView := o.Fleet
	if fleetView == nil {
		fleetView = func() Fleet { return nil }
	}
	(&statusSource{d: d, alerts: alerts, remoteWrite: o.RemoteWrite, fleet: fleetView, prefix: prefix, log: log}).register(mux)
	return withRoutePrefix(prefix, mux)
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
