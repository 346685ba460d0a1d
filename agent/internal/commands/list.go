package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
)

// listedCheck is one line of `pbxwatch list`; the JSON names are part of
// the CLI's contract.
type listedCheck struct {
	Name     string    `json:"name"`
	Plugin   string    `json:"plugin"`
	Schedule string    `json:"schedule"`
	Timeout  string    `json:"timeout"`
	NextRun  time.Time `json:"next_run"`
}

// List prints the configured checks and when each would next run, counted
// from now (the daemon runs every check once at start, then on schedule).
func List(path, output string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	now := time.Now()
	checks := make([]listedCheck, 0, len(cfg.Checks))
	for _, ch := range cfg.Checks {
		lc := listedCheck{Name: ch.Name, Plugin: ch.Plugin, Schedule: ch.Schedule, Timeout: ch.Timeout.String()}
		if s, err := config.ParseSchedule(ch.Schedule); err == nil {
			lc.NextRun = s.Next(now).UTC()
		}
		checks = append(checks, lc)
	}
	if output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(checks); err != nil {
			fmt.Fprintf(stderr, "write: %v\n", err)
			return 1
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tPLUGIN\tSCHEDULE\tTIMEOUT\tNEXT RUN")
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Plugin, c.Schedule, c.Timeout, c.NextRun.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}
