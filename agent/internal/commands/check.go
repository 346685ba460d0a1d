// Package commands holds the agent's one-shot commands (check, list,
// validate): each loads the configuration, does one thing, prints to the
// writers it is given and returns the process's exit code. Package main
// only parses their flags.
package commands

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/daemon"
	"github.com/pbxwatch/pbxwatch/agent/internal/report"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

const exitUnknown = int(sdk.StatusUnknown)

// Check runs one check through its plugin and prints the result. The
// plugin works on a copy of the check's state directory, so a manual run
// beside the daemon never moves the daemon's persisted state (a log
// position, a counter).
func Check(path, name, output string, logger *slog.Logger, stdout, stderr io.Writer) int {
	// Lenient: another check's problem (an unset ${ENV}, a missing
	// plugin) must not keep this one from running; its own does.
	cfg, err := config.LoadLenient(path)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitUnknown
	}
	ch, ok := findCheck(cfg, name)
	if !ok {
		fmt.Fprintf(stderr, "%s: no check named %q (have: %v)\n", path, name, checkNames(cfg))
		return exitUnknown
	}
	if ch.Invalid != nil {
		fmt.Fprintf(stderr, "%v\n", ch.Invalid)
		return exitUnknown
	}
	stateDir, err := os.MkdirTemp("", "pbxwatch-check-"+name+"-")
	if err != nil {
		fmt.Fprintf(stderr, "temporary state dir: %v\n", err)
		return exitUnknown
	}
	defer os.RemoveAll(stateDir)
	if err := copyTree(cfg.StateDir(name), stateDir); err != nil {
		// Typically the daemon's state is readable by its service user
		// only. The run is still worth doing, from a fresh state.
		fmt.Fprintf(stderr, "warning: cannot copy the daemon's state of check %s (%v); running from an empty state\n", name, err)
	}
	host, err := pluginhost.Start(context.Background(), daemon.SpecFor(cfg, ch, stateDir, logger))
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitUnknown
	}
	defer host.Close()
	began := time.Now()
	res := host.Run(context.Background(), ch.Timeout)
	run := report.Run{Check: ch.Name, Plugin: ch.Plugin, Result: res, Duration: time.Since(began)}
	if output == "json" {
		err = report.WriteJSON(stdout, run)
	} else {
		err = report.WriteText(stdout, run)
	}
	if err != nil {
		fmt.Fprintf(stderr, "write result: %v\n", err)
		return exitUnknown
	}
	return int(res.Status)
}

func findCheck(cfg *config.Config, name string) (config.Check, bool) {
	for _, ch := range cfg.Checks {
		if ch.Name == name {
			return ch, true
		}
	}
	return config.Check{}, false
}

func checkNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.Checks))
	for i, ch := range cfg.Checks {
		names[i] = ch.Name
	}
	return names
}

// copyTree copies the regular files and directories under src to dst. A
// missing src (the daemon never ran the check) leaves dst empty.
func copyTree(src, dst string) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o600)
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil
	}
	return err
}
