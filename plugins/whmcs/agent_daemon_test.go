package whmcs

// The daemon's view: `pbxwatch run` schedules failing whmcs checks, and
// neither its /metrics, its /checks page nor its log (plugin lines relayed
// at debug level) carries a credential.

import (
	"fmt"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

func TestDaemonHidesCredentials(t *testing.T) {
	// Failing scenarios where the credentials are sent and refused, so a
	// leak would have every chance to show.
	failing := map[string]bool{"auth_failed": true, "invalid_credentials": true, "invalid_ip": true, "server_error": true}
	blocks := map[string]string{}
	var cases []diagCase
	var leaks []string
	for _, c := range diagCases(t) {
		if failing[c.name] {
			cases = append(cases, c)
			blocks["whmcs_"+c.name] = c.config
			leaks = append(leaks, c.leaks()...)
		}
	}
	if len(cases) != len(failing) {
		t.Fatalf("cases %v not all in the plugin test table", failing)
	}
	d := agentWithChecks(t, blocks).Start(agenttest.Options{})

	// Every check runs once at start; wait until each has its status.
	var statuses []string
	for _, c := range cases {
		statuses = append(statuses, fmt.Sprintf("pbxwatch_check_status{check=%q,plugin=\"whmcs\"} %d\n", "whmcs_"+c.name, int(c.status)))
	}
	metrics := d.WaitForText("/metrics", statuses...)
	checks := d.Get("/checks")
	for _, c := range cases {
		mustContain(t, "/checks", checks, "whmcs_"+c.name, c.code)
	}
	mustContain(t, "/metrics", metrics, `whmcs_api_up{check="whmcs_server_error"}`)

	d.Stop()
	log := d.Logs()
	// The plugins' own lines must be in the agent's log, or its leak check
	// would prove nothing about them.
	mustContain(t, "agent log", log, "plain http")
	assertAbsent(t, "/metrics", metrics, leaks)
	assertAbsent(t, "/checks", checks, leaks)
	assertAbsent(t, "agent log", log, leaks)
}
