package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/pbxwatch/pbxwatch/agent/internal/alerting"
	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/web"
)

// registerAlertTest adds `pbxwatch alert test`; the work is in
// alerting.SendTestAlert.
func registerAlertTest(app *kingpin.Application) (string, func() int) {
	cmd := app.Command("alert", "Alerting tools.").Command("test",
		"Send a synthetic alert, marked as a test and resolving by itself, to every configured Alertmanager; print which accepted it and how long each took. Exits 0 only when all did.")
	cfgFile := configFlag(cmd)
	check := cmd.Flag("check", "Send it with this check's labels and severity, so it takes that check's route.").PlaceHolder("NAME").String()
	severity := cmd.Flag("severity", "Severity label of the test alert (default: the check's alert.severity, else warning).").Enum("info", "warning", "critical")
	resolveAfter := cmd.Flag("resolve-after", "The test alert's endsAt: Alertmanager resolves it this long after sending.").Default(alerting.DefaultTestResolveAfter.String()).Duration()
	externalURL := cmd.Flag("web.external-url", "The agent's --web.external-url, for the alert's link (default: http://<hostname>:9851/).").String()
	return cmd.FullCommand(), func() int {
		return alertTest(*cfgFile, *check, *severity, *resolveAfter, *externalURL, os.Stdout, os.Stderr)
	}
}

func alertTest(cfgFile, check, severity string, resolveAfter time.Duration, externalURL string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(cfgFile)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	host, _ := os.Hostname()
	if externalURL == "" {
		externalURL = "http://" + host + defaultListenAddress + "/"
	}
	ext, err := web.ExternalURL(externalURL, nil)
	if err != nil {
		fmt.Fprintf(stderr, "pbxwatch: --web.external-url: %v\n", err)
		return 1
	}
	t := alerting.TestAlert{Severity: severity, ResolveAfter: resolveAfter, ExternalURL: ext.String(), Hostname: host, Now: time.Now()}
	if check != "" {
		var names []string
		for _, ch := range cfg.Checks {
			names = append(names, ch.Name)
			if ch.Name == check {
				info := ch.AlertInfo()
				t.Check = &info
			}
		}
		if t.Check == nil {
			fmt.Fprintf(stderr, "%s: no check named %q (checks: %v)\n", cfgFile, check, names)
			return 1
		}
	}
	results, err := alerting.SendTestAlert(context.Background(), cfg.Alerting, t)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cfgFile, err)
		return 1
	}
	fmt.Fprintf(stdout, "Test alert %s sent; Alertmanager resolves it at %s.\n", alerting.AlertTestName, t.Now.Add(resolveAfter).UTC().Format(time.RFC3339))
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL  %s  not accepted after %s: %v\n", r.URL, r.Took.Round(time.Millisecond), r.Err)
			continue
		}
		fmt.Fprintf(stdout, "OK    %s  accepted in %s\n", r.URL, r.Took.Round(time.Millisecond))
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d Alertmanagers did not accept the test alert.\n", failed, len(results))
		return 1
	}
	fmt.Fprintf(stdout, "All %d accepted it: the notification should arrive after the route's group_wait.\n", len(results))
	return 0
}
