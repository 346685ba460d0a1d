// Command pbxwatch-demo is what `make demo` runs: local simulators of WHMCS
// and FreePBX, a FreePBX log that grows (and rotates) like a real one, a
// local Alertmanager when Debian's prometheus-alertmanager is installed, and
// the agent itself on configs/demo.yaml — so a newcomer sees real metrics,
// diagnoses and alerts within a minute.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// Loopback addresses the demo config refers to.
const (
	agentAddr        = "127.0.0.1:9851"
	whmcsAddr        = "127.0.0.1:9861"
	freepbxAddr      = "127.0.0.1:9862"
	alertmanagerAddr = "127.0.0.1:9863"
)

func main() {
	binDir := flag.String("bin-dir", "bin", "directory holding pbxwatch and its plugins")
	config := flag.String("config", "configs/demo.yaml", "agent config to run")
	dataDir := flag.String("data-dir", "demo-data", "where the demo keeps its log, state and Alertmanager data")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(*binDir, *config, *dataDir, log); err != nil {
		fmt.Fprintf(os.Stderr, "pbxwatch-demo: %v\n", err)
		os.Exit(1)
	}
}

func run(binDir, config, dataDir string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	stopSims, err := startSimulators(ctx, dataDir, log)
	if err != nil {
		return err
	}
	defer stopSims()

	logPath := filepath.Join(dataDir, "freepbx.log")
	go writeDemoLog(ctx, logPath, log)
	go writeDemoAccessLog(ctx, filepath.Join(dataDir, "access.log"), log)

	am, err := startAlertmanager(ctx, dataDir, log)
	if err != nil {
		return err
	}
	agentConfig := config
	if am == nil {
		// Without an Alertmanager the alerting section would only produce
		// connection errors: run a copy of the config without it.
		if agentConfig, err = withoutAlerting(config, dataDir); err != nil {
			return err
		}
	}
	agent, err := startAgent(ctx, filepath.Join(binDir, "pbxwatch"), agentConfig)
	if err != nil {
		return err
	}
	printURLs(am != nil)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nstopping the demo…")
	agent.stop(10 * time.Second)
	if am != nil {
		am.stop(5 * time.Second)
	}
	return nil
}

func printURLs(withAlertmanager bool) {
	fmt.Printf(`
pbxwatch demo is running. Open:

  http://%[1]s/             the status page: every check, worst first, with its diagnosis,
                                   how to fix it, its history and its alerts
  http://%[1]s/api/v1/checks the same as JSON (and /checks as text, for curl)
  http://%[1]s/metrics       Prometheus metrics (pbxwatch_*, whmcs_*, freepbx_*, logtail_*)
`, agentAddr)
	if withAlertmanager {
		// Debian's Alertmanager has no web UI: show its alerts through
		// amtool or its API instead.
		fmt.Printf(`
The local Alertmanager (%[1]s) holds pbxwatch's alerts; Debian's build has no
web UI, so list them with:
  amtool --alertmanager.url=http://%[1]s alert query
  curl -s http://%[1]s/api/v2/alerts
`, alertmanagerAddr)
	} else {
		fmt.Println("  (install Debian's prometheus-alertmanager to see the alerts in an Alertmanager too)")
	}
	fmt.Printf(`
Simulated WHMCS on %s and FreePBX on %s: configs/demo.yaml points checks
at healthy and at broken installations (the URL path or client_id names the
scenario). The demo logs are demo-data/freepbx.log and demo-data/access.log
(a glue whose GraphQL calls begin failing after 5 seconds).

Try one check by hand, as an operator would:
  bin/pbxwatch check --config.file=configs/demo.yaml whmcs_auth

Ctrl-C stops everything.
`, whmcsAddr, freepbxAddr)
}
