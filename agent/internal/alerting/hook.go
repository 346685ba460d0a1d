package alerting

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Hook is how the daemon drives alerting across config loads. The Manager
// is made at the first load, because its state lives under
// agent.state_dir; a later change of state_dir needs a restart.
type Hook struct {
	log         *slog.Logger
	reg         prometheus.Registerer
	externalURL string

	mu     sync.Mutex
	m      *Manager
	cancel context.CancelFunc
	done   chan struct{}
}

// NewHook makes a hook whose alerts link to externalURL.
func NewHook(log *slog.Logger, reg prometheus.Registerer, externalURL string) *Hook {
	return &Hook{log: log, reg: reg, externalURL: externalURL}
}

// Apply vets and applies a config's alerting before the daemon swaps the
// config in: the first call starts the Manager (state under
// stateDir/alerting), later ones reconfigure it. An error rejects the
// config.
func (h *Hook) Apply(cfg Config, stateDir string, checks []CheckInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		m, err := New(cfg, filepath.Join(stateDir, "alerting"), h.log, h.reg)
		if err != nil {
			return err
		}
		m.SetExternalURL(h.externalURL)
		ctx, cancel := context.WithCancel(context.Background())
		h.m, h.cancel, h.done = m, cancel, make(chan struct{})
		go func() {
			defer close(h.done)
			m.Run(ctx)
		}()
	} else if err := h.m.ApplyConfig(cfg); err != nil {
		return err
	}
	h.m.SetChecks(checks)
	return nil
}

// Observe hands a check's result to the Manager (none before the first
// Apply).
func (h *Hook) Observe(check CheckInfo, res *sdk.Result, at time.Time) {
	if m := h.Manager(); m != nil {
		m.Observe(check, res, at)
	}
}

// ObserveEvents hands events a check's plugin sent between runs (a
// followed log's matched lines) to the Manager, which sends them at once.
func (h *Hook) ObserveEvents(check CheckInfo, evs []sdk.Event, at time.Time) {
	if m := h.Manager(); m != nil {
		m.ObserveEvents(check, evs, at)
	}
}

// Manager is the alerting manager, nil before the first Apply.
func (h *Hook) Manager() *Manager {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m
}

// Stop ends the send loops after their best-effort drain.
func (h *Hook) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		return
	}
	h.cancel()
	<-h.done
}
