package whmcs

import (
	"os"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// TestRecordedAnswers runs the check against every recorded answer in
// whmcssim/answers (WHMCS's own answers and those of the layers in front of
// it) and requires the diagnosis the file names: never OK unless the file
// says so, the named layer or action in the details, the evidence quoted
// as valid UTF-8 and no credential anywhere.
func TestRecordedAnswers(t *testing.T) {
	for _, a := range whmcssim.Answers() {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			extra := ""
			if a.Action != "" {
				extra = "required_actions: [" + a.Action + "]"
			}
			res := runCheck(t, simConfig("/answer/"+a.Name+"/", extra))
			if a.Expect == "OK" {
				if res.Status != sdk.StatusOK || len(res.Diagnoses) != 0 {
					t.Fatalf("want OK, got %s %q %+v", res.Status, res.Summary, res.Diagnoses)
				}
				if a.Action != "" && metric(t, res, "whmcs_action_allowed", map[string]string{"action": a.Action}) != 1 {
					t.Fatalf("%s not counted as allowed", a.Action)
				}
				return
			}
			if res.Status == sdk.StatusOK {
				t.Fatalf("OK for an answer that must be %s: %q", a.Expect, res.Summary)
			}
			d := diagnosis(t, res, a.Expect)
			for k, v := range a.ExpectDetails {
				if d.Details[k] != v {
					t.Errorf("details[%s] = %q, want %q (%+v)", k, d.Details[k], v, d.Details)
				}
			}
			mustContain(t, "message", d.Message, a.ExpectMention...)
			for _, d := range res.Diagnoses {
				for k, v := range d.Details {
					if !utf8.ValidString(v) || len(v) > 1024 {
						t.Errorf("details[%s] is not bounded valid UTF-8: %q", k, v)
					}
				}
				if !utf8.ValidString(d.Message) {
					t.Errorf("message is not valid UTF-8: %q", d.Message)
				}
			}
			if a.Action != "" && a.Expect != "whmcs.permission_denied" && a.Expect != "whmcs.invalid_action" {
				for _, m := range res.Metrics {
					if m.Name == "whmcs_action_allowed" && m.Labels["action"] == a.Action && m.Value == 1 {
						t.Fatalf("%s counted as allowed on an answer that proves nothing", a.Action)
					}
				}
			}
		})
	}
}

// TestDiagnosisTableCoversRecordedAnswers keeps docs/diagnoses.md and the
// recorded answers in step: every answer is a row naming its code, and
// every WHMCS row names a recorded answer.
func TestDiagnosisTableCoversRecordedAnswers(t *testing.T) {
	doc, err := os.ReadFile("../../docs/diagnoses.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`whmcs/") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		rows[strings.TrimPrefix(name, "whmcs/")] = strings.Trim(strings.TrimSpace(cells[len(cells)-2]), "`")
	}
	var missing []string
	for _, a := range whmcssim.Answers() {
		code, ok := rows[a.Name]
		switch {
		case !ok:
			missing = append(missing, a.Name)
		case code != a.Expect:
			t.Errorf("docs/diagnoses.md row whmcs/%s says %s, the recorded answer expects %s", a.Name, code, a.Expect)
		}
		delete(rows, a.Name)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("recorded answers without a row in docs/diagnoses.md: %s", strings.Join(missing, ", "))
	}
	for name := range rows {
		t.Errorf("docs/diagnoses.md row whmcs/%s has no recorded answer in whmcssim/answers", name)
	}
}
