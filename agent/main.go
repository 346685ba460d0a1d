// Command pbxwatch is the monitoring agent for FreePBX hosts: it runs check
// plugins on schedules and exports their results as Prometheus metrics and
// Alertmanager alerts.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/pbxwatch/pbxwatch/agent/internal/commands"
	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/web"
	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

// defaultListenAddress is pbxwatch's port (9851, unallocated in the
// Prometheus default port list at the time of writing).
const defaultListenAddress = ":9851"

// Exit codes of usage errors (unknown flag or command, bad value): 1, and
// 3 (UNKNOWN) for `check`, which Nagios runs and reads by exit code.
const (
	exitUsage      = 1
	exitUsageCheck = 3
)

func main() {
	// Started through a link named pbxwatch-plugin-NAME, this binary is
	// that bundled plugin (bundled.go); sdk.Serve sets its collector.
	if runBundledPlugin(os.Args[0]) {
		return
	}
	setCollectorDefault()
	os.Exit(run(os.Args[1:]))
}

// defaultGCPercent is the collector's target for the agent, as sdk.Serve
// sets it for every plugin: live heaps of a few MiB, so Go's default
// (100, a heap twice the live data) left each process holding several MiB
// it does not use; at 50 the demo's five processes hold 5 MiB less once
// settled, for collections that take well under a millisecond each
// (docs/design.md, "One binary for the agent and the bundled plugins").
const defaultGCPercent = 50

// setCollectorDefault applies defaultGCPercent unless the operator set
// GOGC (in /etc/default/pbxwatch, say), which the runtime has applied.
func setCollectorDefault() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// terminated is what kingpin's --help and --version actions panic with, so
// that they end the parse instead of falling through into the command.
type terminated struct{ code int }

func run(args []string) (code int) {
	app := kingpin.New("pbxwatch", "Monitoring agent for FreePBX hosts: scheduled check plugins, Prometheus metrics, Alertmanager alerts.")
	app.HelpFlag.Short('h')
	app.Version(version.Print("pbxwatch"))
	app.UsageWriter(os.Stdout)
	app.ErrorWriter(os.Stderr)
	app.Terminate(func(code int) { panic(terminated{code}) })
	defer func() {
		if r := recover(); r != nil {
			t, ok := r.(terminated)
			if !ok {
				panic(r)
			}
			code = t.code
		}
	}()
	// Hidden: the tests' checks run every second.
	app.Flag("schedule.min-interval", "Shortest interval a check's schedule may ask for.").Hidden().Default(config.DefaultMinInterval.String()).DurationVar(&config.MinInterval)
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)

	runCmd := app.Command("run", "Run the agent daemon.")
	runConfig := configFlag(runCmd)
	webFlags := kingpinflag.AddFlags(runCmd, defaultListenAddress)
	grace := runCmd.Flag("shutdown.grace-period", "How long a stop or reload waits for check runs in progress before cancelling them.").Default("30s").Duration()
	killGrace := runCmd.Flag("plugin.kill-grace-period", "How long a run may overstay its timeout before its plugin is killed as unresponsive.").Default("2s").Duration()
	lifecycle := runCmd.Flag("web.enable-lifecycle", "Enable reload and shutdown over HTTP (POST /-/reload, POST /-/quit).").Bool()
	externalURL := runCmd.Flag("web.external-url", "The URL under which the agent is reached by people (behind a reverse proxy, say). Used in alerts' generatorURL and as the route prefix. Default: http://<hostname>:<port>/.").String()

	validateCmd := app.Command("validate", "Validate the configuration, including every plugin's own config. Exits 1 listing every error.")
	validateConfig := configFlag(validateCmd)

	checkCmd := app.Command("check", "Run one check once through its plugin and print the result. The exit code is the Nagios status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), so this also works as a Nagios/Icinga plugin.")
	checkConfig := configFlag(checkCmd)
	output := checkCmd.Flag("output", "Output format: text or json.").Default("text").Enum("text", "json")
	checkName := checkCmd.Arg("name", "Name of the check to run.").Required().String()

	listCmd := app.Command("list", "List the configured checks with their plugin, schedule and next run.")
	listConfig := configFlag(listCmd)
	listOutput := listCmd.Flag("output", "Output format: text or json.").Default("text").Enum("text", "json")
	initName, runInit := registerInit(app)
	fleetName, runFleetCmd := registerFleet(app)
	alertTestName, runAlertTest := registerAlertTest(app)

	app.Command("version", "Print the version.")

	if len(args) == 0 { // no command: a usage error, not a request for help
		app.UsageWriter(os.Stderr)
		app.Usage(nil)
		return exitUsage
	}
	selected, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pbxwatch: %v (try --help)\n", err)
		return usageExit(args)
	}
	// Every line the agent logs passes the scrubber: the daemon keeps it
	// filled with the running config's ${ENV} secrets.
	secrets := &scrub.Set{}
	logger := slog.New(scrub.Handler(secrets, promslog.New(logCfg).Handler()))
	switch selected {
	case runCmd.FullCommand():
		ext, err := web.ExternalURL(*externalURL, webFlags)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pbxwatch: --web.external-url: %v\n", err)
			return exitUsage
		}
		return runDaemon(daemonOptions{configFile: *runConfig, web: webFlags, grace: *grace, killGrace: *killGrace,
			lifecycle: *lifecycle, externalURL: ext, logger: logger, secrets: secrets})
	case validateCmd.FullCommand():
		return commands.Validate(*validateConfig, logger, os.Stdout, os.Stderr)
	case checkCmd.FullCommand():
		return commands.Check(*checkConfig, *checkName, *output, logger, os.Stdout, os.Stderr)
	case listCmd.FullCommand():
		return commands.List(*listConfig, *listOutput, os.Stdout, os.Stderr)
	case initName:
		return runInit()
	case fleetName:
		return runFleetCmd()
	case alertTestName:
		return runAlertTest()
	default:
		fmt.Println(version.Print("pbxwatch"))
		return 0
	}
}

// defaultConfigFile is where the packages install the configuration.
const defaultConfigFile = "/etc/pbxwatch/pbxwatch.yaml"

func configFlag(cmd *kingpin.CmdClause) *string {
	return cmd.Flag("config.file", "Configuration file.").Default(defaultConfigFile).String()
}

// usageExit is the exit code of a usage error for the command in args.
func usageExit(args []string) int {
	for _, a := range args {
		if len(a) > 0 && a[0] != '-' {
			if a == "check" {
				return exitUsageCheck
			}
			break
		}
	}
	return exitUsage
}
