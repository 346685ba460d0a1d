// Package systemd tells systemd how the agent is doing (sd_notify: ready,
// reloading, stopping) and pings its watchdog while the daemon answers.
// Outside systemd (no NOTIFY_SOCKET) every call does nothing.
package systemd

import (
	"log/slog"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
)

// Ready says the agent serves (after start and after each reload).
func Ready(log *slog.Logger) { notify(log, sddaemon.SdNotifyReady) }

// Reloading says a reload began (Type=notify-reload semantics).
func Reloading(log *slog.Logger) { notify(log, sddaemon.SdNotifyReloading) }

// Stopping says the agent is shutting down.
func Stopping(log *slog.Logger) { notify(log, sddaemon.SdNotifyStopping) }

func notify(log *slog.Logger, state string) {
	if _, err := sddaemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

// StartWatchdog pings systemd's watchdog (WatchdogSec=) at half its
// interval while alive reports the daemon answering within that time, so a
// wedged agent is restarted rather than silently exporting stale results.
// Without a watchdog it does nothing; stop ends the pings.
func StartWatchdog(alive func(wait time.Duration) bool, log *slog.Logger) (stop func()) {
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
				if alive(interval / 2) {
					notify(log, sddaemon.SdNotifyWatchdog)
				} else {
					log.Error("daemon unresponsive; withholding the watchdog ping")
				}
			}
		}
	}()
	return func() { close(done) }
}
