package sdk

import (
	"log/slog"
	"os"
	"sync"

	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

var (
	loggerOnce sync.Once
	logger     *slog.Logger
	// stderr is the process's real standard error, captured before
	// go-plugin's Serve replaces os.Stderr with a pipe of its own. The agent
	// reads fd 2 directly, which also carries panic traces.
	stderr = os.Stderr
)

// Logger returns the plugin's logger. It writes JSON lines to stderr, which
// the agent reads and re-logs under its own logger, tagged with the check and
// at the level given here. Registered secrets are scrubbed from messages and
// string attributes. Never write to stdout: it belongs to the transport.
func Logger() *slog.Logger {
	loggerOnce.Do(func() {
		h := slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		logger = slog.New(scrub.Handler(&secrets, h))
	})
	return logger
}
