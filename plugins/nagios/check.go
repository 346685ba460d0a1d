package nagios

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Diagnosis codes. The first three repeat what the Nagios plugin said; the
// others say why it could not say anything.
const (
	codeWarning     = "nagios.warning"
	codeCritical    = "nagios.critical"
	codeUnknown     = "nagios.unknown"
	codeBadExit     = "nagios.bad_exit_code"
	codeSignal      = "nagios.killed_by_signal"
	codeTimeout     = "nagios.timeout"
	codeExecFailed  = "nagios.exec_failed"
	codeOutput      = "nagios.long_output"
	codeBadPerfdata = "nagios.perfdata_invalid"
	codeTruncated   = "nagios.output_truncated"
)

// maxPerfItems bounds the series one run may create.
const maxPerfItems = 100

type checker struct{ cfg config }

func (c *checker) Configure(_ context.Context, cfg *sdk.Config) error {
	return cfg.Decode(&c.cfg)
}

func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	out := Run(ctx, c.cfg.command())
	return c.result(out), nil
}

// result turns one run into a check result.
func (c *checker) result(o Outcome) *sdk.Result {
	res := &sdk.Result{}
	details := map[string]string{"command": c.cfg.display()}
	if failed := c.failure(o, details); failed != nil {
		return failed
	}
	parsed := SplitOutput(o.Stdout)
	res.Summary = parsed.Summary
	if res.Summary == "" {
		res.Summary = "(no output returned from plugin)"
	}
	if parsed.Long != "" {
		details["long_output"] = parsed.Long
	}
	details["exit_code"] = strconv.Itoa(o.ExitCode)
	res.Status = sdk.Status(o.ExitCode)
	switch res.Status {
	case sdk.StatusWarning:
		res.Diagnoses = append(res.Diagnoses, pluginSaid(codeWarning, sdk.SeverityWarning, res.Summary, details))
	case sdk.StatusCritical:
		res.Diagnoses = append(res.Diagnoses, pluginSaid(codeCritical, sdk.SeverityCritical, res.Summary, details))
	case sdk.StatusUnknown:
		res.Diagnoses = append(res.Diagnoses, pluginSaid(codeUnknown, sdk.SeverityCritical, res.Summary, details))
	default:
		if parsed.Long != "" {
			res.Diagnoses = append(res.Diagnoses, sdk.Diagnosis{Code: codeOutput, Severity: sdk.SeverityInfo,
				Message: "The plugin's long output.", Details: details})
		}
	}
	if o.Truncated {
		res.Diagnoses = append(res.Diagnoses, sdk.Diagnosis{Code: codeTruncated, Severity: sdk.SeverityInfo,
			Message:     fmt.Sprintf("The plugin printed more than max_output_bytes (%d); the rest was discarded, and perfdata in it was lost.", c.cfg.MaxOutputBytes),
			Remediation: []string{"Raise max_output_bytes, or make the plugin print less (fewer long-output lines)."},
			Details:     map[string]string{"command": c.cfg.display()}})
	}
	c.addPerfdata(res, parsed.Perfdata)
	res.AddGauge("nagios_plugin_exit_code", "Exit code of the Nagios plugin's last run (-1: none, it was killed or not started).", float64(o.ExitCode), nil)
	return res
}

// failure returns an UNKNOWN result when the plugin produced no exit code
// in 0..3, so its output cannot be trusted to mean what Nagios says.
func (c *checker) failure(o Outcome, details map[string]string) *sdk.Result {
	var code, msg string
	var fix []string
	switch {
	case o.StartErr != nil:
		code, msg = codeExecFailed, fmt.Sprintf("could not run %s: %v", c.cfg.display(), o.StartErr)
		fix = []string{"Check that the plugin is installed and executable by the pbxwatch service user: ls -l " + c.cfg.Command.args[0]}
	case o.TimedOut:
		code, msg = codeTimeout, fmt.Sprintf("the plugin did not finish within the check's timeout (%s); it and its children were killed", o.Duration.Round(1e6))
		fix = []string{"Raise the check's timeout, or give the plugin its own shorter timeout (most take -t SECONDS) so it reports what it saw."}
	case o.Signal != "":
		code, msg = codeSignal, fmt.Sprintf("the plugin was killed by signal %s", o.Signal)
		fix = []string{"Run the command by hand as the pbxwatch user to reproduce: " + c.cfg.display(), "Look for an out-of-memory kill in `journalctl -k`."}
	case o.ExitCode < 0 || o.ExitCode > 3:
		code, msg = codeBadExit, fmt.Sprintf("the plugin exited with code %d, which Nagios does not define (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)", o.ExitCode)
		if first := SplitOutput(o.Stdout).Summary; first != "" {
			msg += ": " + first
		}
		fix = []string{"Run the command by hand as the pbxwatch user and read its error: " + c.cfg.display(), "Check the plugin's arguments with its --help."}
	default:
		return nil
	}
	details["exit_code"] = strconv.Itoa(o.ExitCode)
	if o.Stdout != "" {
		details["stdout"] = o.Stdout
	}
	if s := strings.TrimSpace(o.Stderr); s != "" {
		details["stderr"] = s
	}
	res := &sdk.Result{Status: sdk.StatusUnknown, Summary: msg}
	res.Diagnoses = append(res.Diagnoses, sdk.Diagnosis{Code: code, Severity: sdk.SeverityCritical, Message: msg, Remediation: fix, Details: details})
	res.AddGauge("nagios_plugin_exit_code", "Exit code of the Nagios plugin's last run (-1: none, it was killed or not started).", float64(o.ExitCode), nil)
	return res
}

func pluginSaid(code string, sev sdk.Severity, summary string, details map[string]string) sdk.Diagnosis {
	return sdk.Diagnosis{
		Code: code, Severity: sev, Message: summary, Details: details,
		Remediation: []string{"The plugin's own output above says what it found; its documentation (run it with --help) explains the thresholds."},
	}
}

// addPerfdata exports the perfdata as metrics, and reports items it could
// not read as an info diagnosis quoting them.
func (c *checker) addPerfdata(res *sdk.Result, perfdata string) {
	items, errs := ParsePerfdata(perfdata)
	seen := map[string]bool{}
	var problems []string
	for _, err := range errs {
		problems = append(problems, err.Error())
	}
	for _, p := range items {
		switch {
		case seen[p.Label]:
			problems = append(problems, fmt.Sprintf("perfdata label %q repeats; only its first value is exported", p.Label))
			continue
		case len(seen) >= maxPerfItems:
			problems = append(problems, fmt.Sprintf("more than %d perfdata items; the rest are dropped", maxPerfItems))
		}
		if len(seen) >= maxPerfItems {
			break
		}
		seen[p.Label] = true
		addPerf(res, p)
	}
	if len(problems) > 0 {
		details := map[string]string{"command": c.cfg.display()}
		for i, p := range problems {
			if i == 10 {
				details["more"] = fmt.Sprintf("%d more", len(problems)-10)
				break
			}
			details[fmt.Sprintf("problem_%d", i+1)] = p
		}
		res.Diagnoses = append(res.Diagnoses, sdk.Diagnosis{Code: codeBadPerfdata, Severity: sdk.SeverityInfo,
			Message:     "Some of the plugin's performance data does not follow the Nagios format ('label'=value[UOM];[warn];[crit];[min];[max]); those items are not exported.",
			Remediation: []string{"Report it to the plugin's author, quoting the items below."},
			Details:     details})
	}
}

// addPerf exports one item. Threshold ranges become one series per finite
// end, labelled bound="lower"/"upper", and alert_when="outside" (the
// default) or "inside" (an "@" range).
func addPerf(res *sdk.Result, p Perf) {
	labels := func(extra ...string) map[string]string {
		m := map[string]string{"label": p.Label, "uom": p.Unit}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	if !math.IsNaN(p.Value) {
		res.AddGauge("nagios_perfdata_value", "A Nagios plugin's performance value, in base units (bytes, seconds, percent).", p.Value, labels())
	}
	for _, t := range []struct {
		name, help string
		r          *Range
	}{
		{"nagios_perfdata_warning", "An end of the Nagios plugin's warning range.", p.Warning},
		{"nagios_perfdata_critical", "An end of the Nagios plugin's critical range.", p.Critical},
	} {
		if t.r == nil {
			continue
		}
		when := "outside"
		if t.r.Inside {
			when = "inside"
		}
		if !math.IsInf(t.r.Low, 0) {
			res.AddGauge(t.name, t.help, t.r.Low, labels("bound", "lower", "alert_when", when))
		}
		if !math.IsInf(t.r.High, 0) {
			res.AddGauge(t.name, t.help, t.r.High, labels("bound", "upper", "alert_when", when))
		}
	}
	if p.Min != nil {
		res.AddGauge("nagios_perfdata_min", "The least value the Nagios plugin says is possible.", *p.Min, labels())
	}
	if p.Max != nil {
		res.AddGauge("nagios_perfdata_max", "The greatest value the Nagios plugin says is possible.", *p.Max, labels())
	}
}
