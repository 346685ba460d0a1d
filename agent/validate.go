package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

// validate loads the config and has every plugin check its own block,
// without running any check or touching the state directory. It lists
// every problem at once: the file's, each check's, each plugin's.
func validate(path string, logger *slog.Logger) int {
	cfg, fileErr := config.LoadLenient(path)
	if cfg == nil {
		fmt.Fprintf(os.Stderr, "%v\n", fileErr)
		return 1
	}
	pool := pluginhost.NewPool()
	failed := daemon.ValidateEach(context.Background(), cfg, func(cfg *config.Config, ch config.Check) (pluginhost.Spec, error) {
		s := daemon.SpecFor(cfg, ch, cfg.StateDir(ch.Name), logger)
		s.Pool = pool
		return s, nil
	})
	if err := errors.Join(fileErr, daemon.JoinInOrder(cfg, failed)); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	fmt.Printf("%s: %d checks, configuration valid\n", path, len(cfg.Checks))
	return 0
}
