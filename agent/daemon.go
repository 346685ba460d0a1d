package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/metrics"
	"github.com/pbxwatch/pbxwatch/agent/internal/systemd"
	"github.com/pbxwatch/pbxwatch/agent/internal/web"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

type daemonOptions struct {
	configFile  string
	web         *toolkitweb.FlagConfig
	grace       time.Duration
	killGrace   time.Duration
	lifecycle   bool
	externalURL *url.URL
	logger      *slog.Logger
	secrets     *scrub.Set
}

// runDaemon runs the agent until SIGTERM or SIGINT; SIGHUP reloads.
func runDaemon(o daemonOptions) int {
	log := o.logger
	m := metrics.New(log)
	al := alerting.NewHook(log, m.Registry, o.externalURL.String())
	defer al.Stop()
	rw := newPushes(log, m.Registry)
	defer rw.m.Stop()
	fv := &fleetView{log: log}
	onConfig := func(cfg *config.Config) error {
		if err := al.Apply(cfg.Alerting, cfg.Agent.StateDir, cfg.AlertInfos()); err != nil {
			return err
		}
		if err := fv.onConfig(cfg); err != nil {
			return err
		}
		return rw.onConfig(cfg)
	}
	d := daemon.New(daemon.Options{
		Logger: log, Metrics: m, Grace: o.grace, KillGrace: o.killGrace,
		OnConfig: onConfig, Secrets: o.secrets,
		OnResult: func(ch config.Check, res *sdk.Result, at time.Time) { al.Observe(ch.AlertInfo(), res, at) },
		OnEvents: func(ch config.Check, evs []sdk.Event, at time.Time) { al.ObserveEvents(ch.AlertInfo(), evs, at) },
	})
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	if err := d.Load(context.Background(), o.configFile); err != nil {
		log.Error("cannot load configuration; not starting", "err", err)
		return 1
	}
	reloads, quit := make(chan chan error), make(chan struct{})
	handler := web.NewHandler(web.Options{
		Checks: d, Registry: m.Registry, Logger: log, Lifecycle: o.lifecycle, ExternalURL: o.externalURL,
		Reload: func() error { // the main loop reloads, so reloads never overlap
			reply := make(chan error, 1)
			reloads <- reply
			return <-reply
		},
		Quit: func() { close(quit) },
		Alerts: func() web.Alerts {
			if m := al.Manager(); m != nil {
				return m
			}
			return nil // a nil interface, not a nil *alerting.Manager in one
		},
		RemoteWrite: rw.m.Status,
		Fleet:       fv.current,
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- toolkitweb.ListenAndServe(srv, o.web, log) }()

	systemd.Ready(log)
	stopWatchdog := systemd.StartWatchdog(d.Alive, log)
	defer stopWatchdog()

	for {
		select {
		case err := <-serveErr:
			log.Error("web server failed", "err", err)
			d.Shutdown()
			return 1
		case reply := <-reloads:
			reply <- reload(d, o.configFile, log)
		case <-quit:
			log.Info("stopping", "reason", "POST /-/quit")
			return stop(d, srv, log)
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				_ = reload(d, o.configFile, log)
				continue
			}
			log.Info("stopping", "signal", sig.String())
			return stop(d, srv, log)
		}
	}
}

// stop shuts the daemon and the web server down; exit code 0.
func stop(d *daemon.Daemon, srv *http.Server, log *slog.Logger) int {
	systemd.Stopping(log)
	d.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = srv.Shutdown(ctx)
	cancel()
	log.Info("stopped")
	return 0
}

// reload swaps in the config file's current contents; on any error the
// running configuration stays.
func reload(d *daemon.Daemon, path string, log *slog.Logger) error {
	systemd.Reloading(log)
	defer systemd.Ready(log)
	if err := d.Load(context.Background(), path); err != nil {
		log.Error("reload failed; keeping the running configuration", "err", err)
		return err
	}
	return nil
}
