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

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/metrics"
	"github.com/pbxwatch/pbxwatch/agent/internal/web"
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
	al := &alerts{log: log, reg: m.Registry, externalURL: o.externalURL.String()}
	defer al.stop()
	rw := newPushes(log, m.Registry)
	defer rw.m.Stop()
	fv := &fleetView{log: log}
	onConfig := func(cfg *config.Config) error {
		if err := al.onConfig(cfg); err != nil {
			return err
		}
		if err := fv.onConfig(cfg); err != nil {
			return err
		}
		return rw.onConfig(cfg)
	}
	d := daemon.New(daemon.Options{
		Logger: log, Metrics: m, Grace: o.grace, KillGrace: o.killGrace,
		OnConfig: onConfig, OnResult: al.onResult, Secrets: o.secrets,
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
		Quit:        func() { close(quit) },
		Alerts:      al.view,
		RemoteWrite: rw.m.Status,
		Fleet:       fv.current,
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- toolkitweb.ListenAndServe(srv, o.web, log) }()

	notify(log, sddaemon.SdNotifyReady)
	stopWatchdog := startWatchdog(d, log)
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
	notify(log, sddaemon.SdNotifyStopping)
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
	notify(log, sddaemon.SdNotifyReloading)
	defer notify(log, sddaemon.SdNotifyReady)
	if err := d.Load(context.Background(), path); err != nil {
		log.Error("reload failed; keeping the running configuration", "err", err)
		return err
	}
	return nil
}

func notify(log *slog.Logger, state string) {
	if _, err := sddaemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

// startWatchdog pings systemd's watchdog (WatchdogSec=) at half its interval
// while the daemon answers, so a wedged agent is restarted rather than
// silently exporting stale results.
func startWatchdog(d *daemon.Daemon, log *slog.Logger) (stop func()) {
	interval, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if d.Alive(interval / 2) {
					notify(log, sddaemon.SdNotifyWatchdog)
				} else {
					log.Error("daemon unresponsive; withholding the watchdog ping")
				}
			}
		}
	}()
	return func() { close(done) }
}
