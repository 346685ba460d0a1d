package freepbx_test

// The daemon's view: `pbxwatch run` schedules failing freepbx checks, and
// neither its /metrics, its /checks page nor its log (plugin lines relayed
// at debug level) carries a client secret.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
)

func TestDaemonHidesClientSecret(t *testing.T) {
	// A wrong secret sent and refused, an error page echoing the posted
	// secret, and a revoked token: the likeliest ways for a secret to leak.
	failing := map[string]string{
		"invalid_client":                  "fpbx_invalid_client",
		"server_error echoing the secret": "fpbx_server_error",
		"token_rejected":                  "fpbx_token_rejected",
	}
	var checks strings.Builder
	var cases []pluginCase
	leaks := []string{e2eSecret}
	for _, c := range pluginCases(t) {
		if name, ok := failing[c.name]; ok {
			cases = append(cases, c)
			checks.WriteString(c.agentCheck(t, name))
			leaks = append(leaks, c.secretValue())
		}
	}
	if len(cases) != len(failing) {
		t.Fatalf("cases %v not all in the transport test table", failing)
	}
	e := newAgentEnv(t, checks.String())
	d := e.Start(agenttest.Options{})

	// Every check runs once at start; wait until each has its status.
	var statuses []string
	for _, c := range cases {
		statuses = append(statuses, fmt.Sprintf("pbxwatch_check_status{check=%q,plugin=\"freepbx\"} %d\n", failing[c.name], int(c.status)))
	}
	metrics := d.WaitForText("/metrics", statuses...)
	checksPage := d.Get("/checks")
	for _, c := range cases {
		if !strings.Contains(checksPage, failing[c.name]) || !strings.Contains(checksPage, c.code) {
			t.Errorf("/checks lacks %s with %s:\n%s", failing[c.name], c.code, checksPage)
		}
	}
	if !strings.Contains(metrics, `freepbx_api_up{check="fpbx_server_error"}`) {
		t.Errorf("/metrics lacks the plugin's own metrics:\n%s", metrics)
	}

	d.Stop()
	log := d.Logs()
	// The plugins' own lines must be in the agent's log, or its leak check
	// would prove nothing about them.
	if !strings.Contains(log, "freepbx API checked") {
		t.Errorf("the plugins' log lines did not reach the agent's log:\n%s", log)
	}
	for _, s := range leaks {
		for what, text := range map[string]string{"/metrics": metrics, "/checks": checksPage, "agent log": log} {
			if strings.Contains(text, s) {
				t.Errorf("%s reveals the secret %q:\n%s", what, s, text)
			}
		}
	}
}
