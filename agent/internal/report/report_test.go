package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

func TestJSONHasEmptyListsNotNull(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, Run{Check: "c", Plugin: "p", Result: &sdk.Result{Status: sdk.StatusOK, Summary: "fine"}, Duration: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"diagnoses", "metrics", "events"} {
		if l, ok := got[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", k, got[k])
		}
	}
	if got["duration_seconds"] != 1.5 || got["status"] != "OK" {
		t.Errorf("%v", got)
	}
}

func TestTextNumbersStepsAndIndentsMultilineMessages(t *testing.T) {
	var b bytes.Buffer
	res := &sdk.Result{Status: sdk.StatusCritical, Summary: "down"}
	res.Diagnose(sdk.Diagnosis{Code: "x.y", Severity: sdk.SeverityCritical, Message: "line one\nline two",
		Remediation: []string{"first", "second\ncontinued"}, Details: map[string]string{"b": "2", "a": "1"}})
	_ = WriteText(&b, Run{Check: "c", Plugin: "p", Result: res})
	want := `c CRITICAL: down
  plugin p, took 0s

[CRITICAL] x.y
  line one
  line two
  Evidence:
    a: 1
    b: 2
  How to fix:
    1. first
    2. second
       continued
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if strings.Count(b.String(), "Evidence") != 1 {
		t.Fatal("evidence repeated")
	}
}
