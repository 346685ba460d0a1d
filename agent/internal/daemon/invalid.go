package daemon

import (
	"fmt"
	"strconv"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// InvalidResult is what a check that cannot run reports on each of its
// ticks until a reload fixes it: UNKNOWN, with the error (file and line
// included) as evidence.
func InvalidResult(cfg *config.Config, ch config.Check, err error) *sdk.Result {
	summary := fmt.Sprintf("check %s cannot run: its plugin or configuration is invalid", ch.Name)
	return &sdk.Result{
		Status:  sdk.StatusUnknown,
		Summary: summary,
		Diagnoses: []sdk.Diagnosis{{
			Code:     sdk.CodeCheckInvalid,
			Severity: sdk.SeverityCritical,
			Message:  summary + ":\n" + err.Error(),
			Remediation: []string{
				fmt.Sprintf("Fix what the evidence names at %s:%d (`pbxwatch validate --config.file=%s` lists every problem).", cfg.File, ch.Line, cfg.File),
				"If the plugin is missing or its sha256 differs, install the plugin binary that matches this agent, or update `sha256:`.",
				"Reload the agent (systemctl reload pbxwatch): the check runs again once its config is valid; the other checks keep running meanwhile.",
			},
			Details: map[string]string{
				"error":       err.Error(),
				"config_file": cfg.File,
				"line":        strconv.Itoa(ch.Line),
			},
		}},
	}
}
