package alerting

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
)

// Each annotation is bounded however many pieces it joins.
func TestAnnotationsAreBounded(t *testing.T) {
	m, _ := newTestManager(t, Config{}, "")
	r := &sdk.Result{Summary: strings.Repeat("s", 1000)}
	details := map[string]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		details[k] = strings.Repeat(k, 2000)
	}
	r.Diagnose(sdk.Diagnosis{Code: "x.big", Severity: sdk.SeverityCritical, Message: strings.Repeat("m", 4000), Details: details,
		Remediation: []string{strings.Repeat("r", 1000), strings.Repeat("r", 1000), strings.Repeat("r", 1000), strings.Repeat("r", 1000), strings.Repeat("r", 1000), strings.Repeat("r", 1000), strings.Repeat("r", 1000), strings.Repeat("r", 1000), strings.Repeat("r", 1000)}})
	m.Observe(whmcs, r, t0)
	due := m.due(t0)
	if len(due) != 1 {
		t.Fatalf("%d due", len(due))
	}
	for k, v := range due[0].Annotations {
		if len(v) > bounds.Annotation {
			t.Errorf("annotation %s has %d bytes", k, len(v))
		}
	}
	if !strings.Contains(due[0].Annotations["description"], "…[cut:") || !strings.Contains(due[0].Annotations["remediation"], "…[cut:") {
		t.Errorf("cut not marked")
	}
}

// The state file is rewritten (and fsynced) only when what it holds
// changes: runs that change nothing leave it alone.
func TestStateFileWrittenOnlyWhenChanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, stateFileName)
	alerts := []*alert{{Kind: kindCheck, Check: "c", Code: "x", Labels: map[string]string{"alertname": "A"}, ActiveAt: t0}}
	if err := saveState(path, alerts); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if err := saveState(path, alerts); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !after.ModTime().Equal(old) || !os.SameFile(before, after) {
		t.Fatalf("unchanged state rewritten")
	}
	alerts[0].FiredAt = t0
	if err := saveState(path, alerts); err != nil {
		t.Fatal(err)
	}
	if changed, _ := os.Stat(path); changed.ModTime().Equal(old) {
		t.Fatalf("changed state not written")
	}
}
