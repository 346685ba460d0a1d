package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/web"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// alerts connects the daemon to the alerting package. The manager is made
// at the first config load, because its state lives under agent.state_dir;
// a later change of state_dir needs a restart.
type alerts struct {
	log         *slog.Logger
	reg         prometheus.Registerer
	externalURL string

	mu     sync.Mutex
	m      *alerting.Manager
	cancel context.CancelFunc
	done   chan struct{}
}

// onConfig vets and applies a config's alerting before it is swapped in.
func (a *alerts) onConfig(cfg *config.Config) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		m, err := alerting.New(cfg.Alerting, filepath.Join(cfg.Agent.StateDir, "alerting"), a.log, a.reg)
		if err != nil {
			return err
		}
		m.SetExternalURL(a.externalURL)
		ctx, cancel := context.WithCancel(context.Background())
		a.m, a.cancel, a.done = m, cancel, make(chan struct{})
		go func() {
			defer close(a.done)
			m.Run(ctx)
		}()
	} else if err := a.m.ApplyConfig(cfg.Alerting); err != nil {
		return err
	}
	infos := make([]alerting.CheckInfo, len(cfg.Checks))
	for i, ch := range cfg.Checks {
		infos[i] = checkInfo(ch)
	}
	a.m.SetChecks(infos)
	return nil
}

func (a *alerts) onResult(ch config.Check, res *sdk.Result, at time.Time) {
	a.mu.Lock()
	m := a.m
	a.mu.Unlock()
	if m != nil {
		m.Observe(checkInfo(ch), res, at)
	}
}

// view is the alerting manager as the status pages read it, nil before
// the first config load.
func (a *alerts) view() web.Alerts {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		return nil // a nil interface, not a nil *alerting.Manager in one
	}
	return a.m
}

// stop ends the send loops after their best-effort drain.
func (a *alerts) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		return
	}
	a.cancel()
	<-a.done
}

func checkInfo(ch config.Check) alerting.CheckInfo {
	return alerting.CheckInfo{Name: ch.Name, Plugin: ch.Plugin, Alert: ch.Alert}
}
