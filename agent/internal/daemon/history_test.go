package daemon

import (
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// TestHistoryIsBoundedAndKeepsStatusChanges: however long the agent runs,
// a check keeps its last historyRuns runs and historyChanges changes,
// newest first; a run like the one before is no change.
func TestHistoryIsBoundedAndKeepsStatusChanges(t *testing.T) {
	var h History
	t0 := time.Unix(1_700_000_000, 0)
	var prev sdk.Status
	for i := 0; i < 500; i++ {
		st := sdk.StatusOK
		if (i/3)%2 == 1 { // three OK, three CRITICAL, ...
			st = sdk.StatusCritical
		}
		h.add(&sdk.Result{Status: st, Summary: "run"}, t0.Add(time.Duration(i)*time.Second), time.Millisecond, prev, i > 0)
		prev = st
	}
	if len(h.Runs) != historyRuns || len(h.Changes) != historyChanges {
		t.Fatalf("%d runs, %d changes kept", len(h.Runs), len(h.Changes))
	}
	if !h.Runs[0].At.Equal(t0.Add(499*time.Second)) || !h.Runs[1].At.Before(h.Runs[0].At) {
		t.Errorf("runs not newest first: %v, %v", h.Runs[0].At, h.Runs[1].At)
	}
	// The last change was at run 498 (CRITICAL -> OK).
	if c := h.Changes[0]; !c.At.Equal(t0.Add(498*time.Second)) || c.From != "CRITICAL" || c.To != "OK" {
		t.Errorf("latest change %+v", c)
	}
	if c := h.Changes[1]; !c.At.Equal(t0.Add(495*time.Second)) || c.From != "OK" || c.To != "CRITICAL" {
		t.Errorf("change before %+v", c)
	}

	var first History
	first.add(&sdk.Result{Status: sdk.StatusWarning}, t0, 0, 0, false)
	if len(first.Changes) != 1 || first.Changes[0].From != "" || first.Changes[0].To != "WARNING" {
		t.Errorf("first run is a change from nothing: %+v", first.Changes)
	}
}
