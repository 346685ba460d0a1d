package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

// Validate loads the config and has every plugin check its own block,
// without running any check or touching the state directory. It lists
// every problem at once: the file's, each check's, each plugin's.
func Validate(path string, logger *slog.Logger, stdout, stderr io.Writer) int {
	cfg, fileErr := config.LoadLenient(path)
	if cfg == nil {
		fmt.Fprintf(stderr, "%v\n", fileErr)
		return 1
	}
	pool := pluginhost.NewPool()
	failed := daemon.ValidateEach(context.Background(), cfg, func(cfg *config.Config, ch config.Check) (pluginhost.Spec, error) {
		s := daemon.SpecFor(cfg, ch, cfg.StateDir(ch.Name), logger)
		s.Pool = pool
		return s, nil
	})
	if err := errors.Join(fileErr, daemon.JoinInOrder(cfg, failed)); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d checks, configuration valid\n", path, len(cfg.Checks))
	return 0
}
