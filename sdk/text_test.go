package sdk

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func everyStringResult(shared []string, labels map[string]string) *Result {
	r := &Result{Summary: "s"}
	r.Diagnose(Diagnosis{Code: "c.x", Severity: SeverityWarning, Message: "m", Remediation: shared,
		Details: map[string]string{"k": "v"}, LogEvent: "p"})
	r.AddGauge("g", "h", 1, labels)
	r.Events = append(r.Events, Event{Name: "e", Severity: SeverityInfo, Message: "em", Labels: labels, Time: time.Now()})
	return r
}

// One walk reaches every string of a result, each named for what it is.
func TestEachTextVisitsEveryString(t *testing.T) {
	r := everyStringResult([]string{"step"}, map[string]string{"l": "lv"})
	var seen []string
	r.EachText(func(s string, tx Text) string {
		seen = append(seen, tx.What)
		return strings.ToUpper(s)
	})
	sort.Strings(seen)
	want := "code detail detail_key event_message event_name event_name label_value label_value label_value_key label_value_key message metric_help metric_name remediation severity severity summary"
	if strings.Join(seen, " ") != want {
		t.Fatalf("visited %s\nwant    %s", strings.Join(seen, " "), want)
	}
	d := r.Diagnoses[0]
	if r.Summary != "S" || d.Code != "C.X" || d.Remediation[0] != "STEP" || d.Details["K"] != "V" || d.LogEvent != "P" ||
		r.Metrics[0].Labels["L"] != "LV" || r.Events[0].Message != "EM" || r.Events[0].Labels["L"] != "LV" {
		t.Fatalf("not every string was replaced: %+v", r)
	}
}

// ScrubText changes the free text only, and never a list or map the plugin
// keeps (a pattern's remediation, shared by every run and check).
func TestScrubTextLeavesIdentifiersAndSharedValuesAlone(t *testing.T) {
	shared := []string{"call 555-secret"}
	labels := map[string]string{"secret_kind": "555-secret"}
	r := everyStringResult(shared, labels)
	r.Diagnoses[0].Code = "secret.code"
	r.ScrubText(func(s string) string { return strings.ReplaceAll(s, "secret", "<x>") })
	if r.Diagnoses[0].Remediation[0] != "call 555-<x>" || r.Metrics[0].Labels["secret_kind"] != "555-<x>" {
		t.Fatalf("free text not scrubbed: %+v", r)
	}
	if r.Diagnoses[0].Code != "secret.code" {
		t.Fatalf("an identifier was scrubbed: %q", r.Diagnoses[0].Code)
	}
	if shared[0] != "call 555-secret" || labels["secret_kind"] != "555-secret" {
		t.Fatalf("the plugin's own list or map changed: %v %v", shared, labels)
	}
}
