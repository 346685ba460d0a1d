package main

import (
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite"
)

// pushes connects the daemon to the remote-write manager: every loaded
// config's remote_write entries replace the running ones (their disk
// queues carry over).
type pushes struct {
	log *slog.Logger
	reg *prometheus.Registry
	m   *remotewrite.Manager
}

func newPushes(log *slog.Logger, reg *prometheus.Registry) *pushes {
	return &pushes{log: log, reg: reg, m: remotewrite.NewManager(reg)}
}

func (p *pushes) onConfig(cfg *config.Config) error {
	return p.m.Apply(cfg.RemoteWrite, remotewrite.Options{
		Gatherer: p.reg, Logger: p.log, StateDir: cfg.Agent.StateDir,
		CredentialsDir: cfg.CredentialsDir(), ExternalLabels: hostLabels(cfg.Agent.ExternalLabels),
	})
}

// hostLabels is agent.external_labels with instance defaulting to the host
// name, as on alerts.
func hostLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		out[k] = v
	}
	if out["instance"] == "" {
		if h, err := os.Hostname(); err == nil {
			out["instance"] = h
		}
	}
	return out
}
