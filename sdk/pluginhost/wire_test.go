package pluginhost

import (
	"testing"

	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// The log-event mark crosses from the wire into the result the agent
// alerts on; a plugin that predates it sends none.
func TestFromWireKeepsTheLogEventMark(t *testing.T) {
	res := fromWire(&pluginv1.CheckResponse{Diagnoses: []*pluginv1.Diagnosis{
		{Code: "logtail.pattern_matched", Severity: "critical", LogEvent: "sql_error"},
		{Code: "logtail.pattern_matched", Severity: "warning", Details: map[string]string{"pattern": "auth_failure"}},
	}})
	if got := res.Diagnoses[0].LogEvent; got != "sql_error" {
		t.Fatalf("LogEvent = %q, want sql_error", got)
	}
	if got := res.Diagnoses[1].LogEvent; got != "" || res.Diagnoses[1].Details["pattern"] != "auth_failure" {
		t.Fatalf("an old plugin's diagnosis changed: %+v", res.Diagnoses[1])
	}
}
