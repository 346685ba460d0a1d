// Package alerting turns check results into Alertmanager alerts and sends
// them the way Prometheus' notifier does, so the agent can alert without a
// Prometheus in between.
//
// The daemon uses five calls:
//
//	m, err := alerting.New(cfg.Alerting, filepath.Join(stateDir, "alerting"), logger, registry)
//	m.SetChecks(infos)                   // at load and on every reload
//	go m.Run(ctx)                        // send loops; on ctx done, a best-effort drain
//	m.Observe(info, result, finishedAt)  // after every check run
//	m.ApplyConfig(newCfg.Alerting)       // on reload (validates; an error rejects it)
//
// # Alerts
//
// Each failing (check, diagnosis code) is one alert PbxwatchCheckFailing
// with labels check, plugin, code, severity, instance (the host name, or
// external_labels.instance), the check's alert.labels and the external
// labels; annotations summary, description (message, details, the run's
// summary), remediation (the steps, numbered) and runbook_url. Only
// diagnoses of severity warning or critical alert. A failing run without
// one gets the code pbxwatch.unknown. severity is the diagnosis' unless the
// check's alert.severity overrides it.
//
// A code that is no longer reported resolves, so a change of cause
// resolves the old alert and fires the new one. Two exceptions keep a
// flaky plugin from flapping real alerts: a run cancelled by the agent
// stopping (pbxwatch.agent_stopping) changes nothing, and an UNKNOWN run
// whose codes are all the agent's own (pbxwatch.plugin_crashed, …: the
// check could not look at the system) fires those but leaves the check's
// other alerts as they were. alert.for keeps a new alert pending (never
// sent) until the code has been reported for that long.
//
// Plugin events fire PbxwatchLogEvent{check, plugin, pattern (the event
// name), severity (default warning)}, at once, and resolve after
// event_quiet_period (default 5m) without a new match.
//
// # Sending
//
// Alerts are POSTed to /api/v2/alerts of every configured Alertmanager in
// batches of up to 256. Firing alerts are re-sent every resend_interval
// with endsAt = now + 4 × resend_interval; resolved ones are sent at once
// with endsAt = the resolve time and re-sent for 15 minutes. Each
// Alertmanager has its own goroutine and bounded queue (10000, oldest
// dropped and counted), so a slow or dead one delays no other; a failed
// POST is not retried, the resends deliver what is still active once it is
// back.
//
// # State
//
// Alerts are saved to alerts.json in the state dir (write to a temp file,
// fsync, rename) on every change, so a restart neither drops a firing
// alert (it keeps its startsAt and is re-sent at once) nor fires again one
// that had resolved. An unreadable file is moved aside to
// alerts.json.corrupt and the agent starts with no alerts.
//
// Passwords are of type Secret, which prints as <secret> everywhere;
// Alertmanager URLs with credentials in them are rejected.
package alerting
