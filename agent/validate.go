package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/internal/pluginhost"
)

// validate loads the config and has every plugin check its own block,
// without running any check or touching the state directory.
func validate(path string, logger *slog.Logger) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	hosts, err := daemon.StartPlugins(context.Background(), cfg, func(cfg *config.Config, ch config.Check) (pluginhost.Spec, error) {
		return daemon.SpecFor(cfg, ch, cfg.StateDir(ch.Name), logger), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	for _, h := range hosts {
		h.Close()
	}
	fmt.Printf("%s: %d checks, configuration valid\n", path, len(cfg.Checks))
	return 0
}
