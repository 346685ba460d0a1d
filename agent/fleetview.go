package main

import (
	"log/slog"
	"sync/atomic"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/fleet"
	"github.com/pbxwatch/pbxwatch/agent/internal/web"
)

// fleetView is the fleet page's source under the running config: set by
// every (re)load, nil without a fleet: block.
type fleetView struct {
	log *slog.Logger
	src atomic.Pointer[fleet.Source]
}

func (f *fleetView) onConfig(cfg *config.Config) error {
	if cfg.Fleet == nil {
		f.src.Store(nil)
		return nil
	}
	src, err := fleet.New(cfg.Fleet.PrometheusURL, nil)
	if err != nil {
		return err
	}
	src.SilentAfter = cfg.Fleet.SilentAfter
	f.src.Store(src)
	f.log.Info("fleet page on", "prometheus_url", cfg.Fleet.PrometheusURL)
	return nil
}

// current is web.Options.Fleet.
func (f *fleetView) current() web.Fleet {
	if src := f.src.Load(); src != nil {
		return src
	}
	return nil
}
