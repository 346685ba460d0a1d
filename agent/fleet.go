package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/pbxwatch/pbxwatch/agent/internal/fleet"
)

// fleetFlags are `pbxwatch fleet`'s options.
type fleetFlags struct {
	url         *string
	output      *string
	silentAfter *time.Duration
	timeout     *time.Duration
}

func registerFleet(app *kingpin.Application) (string, func() int) {
	cmd := app.Command("fleet", "Show every host reporting to a Prometheus-compatible engine with its checks, worst first: silent hosts, shared causes, since when.")
	f := fleetFlags{
		url:         cmd.Flag("prometheus.url", "Base URL of Prometheus (or VictoriaMetrics, Mimir, Thanos: any engine with Prometheus's HTTP API) holding the agents' series.").Required().String(),
		output:      cmd.Flag("output", "Output format: text or json (a list of hosts).").Default("text").Enum("text", "json"),
		silentAfter: cmd.Flag("silent.after", "A host that reported in the last day but not for this long is silent (as the PbxwatchHostSilent rule).").Default("5m").Duration(),
		timeout:     cmd.Flag("query.timeout", "Time allowed for all the queries.").Default("30s").Duration(),
	}
	return cmd.FullCommand(), func() int { return runFleet(f, os.Stdout) }
}

func runFleet(f fleetFlags, out io.Writer) int {
	src, err := fleet.New(*f.url, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pbxwatch fleet: --%v\n", err)
		return exitUsage
	}
	src.SilentAfter = *f.silentAfter
	ctx, cancel := context.WithTimeout(context.Background(), *f.timeout)
	defer cancel()
	v, err := src.View(ctx, time.Now())
	if err != nil {
		fmt.Fprintf(os.Stderr, "pbxwatch fleet: %v\n", err)
		return 1
	}
	if *f.output == "json" {
		err = fleet.WriteJSON(out, v)
	} else {
		err = fleet.WriteText(out, v)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pbxwatch fleet: %v\n", err)
		return 1
	}
	return 0
}
