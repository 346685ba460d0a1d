package sdk

// The diagnosis codes the agent assigns itself, defined once here for the
// agent, its plugin host and plugin tests alike. They all start with
// AgentCodePrefix, which a plugin's own codes never do: they mean the run
// could not check anything (the plugin timed out, crashed, failed to
// start) or the check cannot run at all, and say nothing about the system
// checked. docs/alerting.md lists them with their runbook entries.
const (
	// AgentCodePrefix starts every code the agent assigns.
	AgentCodePrefix = "pbxwatch."

	// CodePluginTimeout: the run overran its timeout and the plugin
	// answered once its context expired.
	CodePluginTimeout = "pbxwatch.plugin_timeout"
	// CodePluginKilled: the plugin ignored its deadline and was killed
	// with its process group.
	CodePluginKilled = "pbxwatch.plugin_killed"
	// CodePluginCrashed: the plugin process died during the run.
	CodePluginCrashed = "pbxwatch.plugin_crashed"
	// CodePluginStartFailed: the plugin process could not be started or
	// configured.
	CodePluginStartFailed = "pbxwatch.plugin_start_failed"
	// CodePluginRestartBackoff: the plugin crashed repeatedly and waits
	// before its next start.
	CodePluginRestartBackoff = "pbxwatch.plugin_restart_backoff"
	// CodeCheckError: Check returned an error (or an answer the agent
	// cannot read) instead of a result.
	CodeCheckError = "pbxwatch.check_error"
	// CodeAgentStopping: the run was cut short by a stop or reload; it is
	// not recorded and changes no alert.
	CodeAgentStopping = "pbxwatch.agent_stopping"
	// CodeCheckInvalid: the check cannot run (plugin missing or failing its
	// sha256, entry or plugin config rejected) until a reload fixes it.
	CodeCheckInvalid = "pbxwatch.check_invalid"
	// CodeUndiagnosed: a failing run that names no warning or critical
	// diagnosis (a plugin that only set its status).
	CodeUndiagnosed = "pbxwatch.unknown"
	// CodeAlertTest: the synthetic alert `pbxwatch alert test` sends.
	CodeAlertTest = "pbxwatch.alert_test"
)
