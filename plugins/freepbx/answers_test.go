package freepbx

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/plugins/freepbx/freepbxsim"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// TestRecordedAnswers runs the check against every recorded answer in
// freepbxsim/answers (the API module's, the framework's and those of the
// layers in front of FreePBX) and requires the diagnosis the file names:
// never OK unless the file says so, the named details, evidence as valid
// UTF-8, and the client secret in no encoding anywhere.
func TestRecordedAnswers(t *testing.T) {
	for _, a := range freepbxsim.Answers() {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			block := fmt.Sprintf("url: %s\nclient_id: answer.%s\nclient_secret_file: %s\n", simURL(t), a.Name, secretFile(t, testSecret))
			res := checkWith(t, block, 5*time.Second)
			assertNoEncodedSecret(t, res, testSecret)
			if a.Expect == "OK" {
				if res.Status != sdk.StatusOK || len(res.Diagnoses) != 0 {
					t.Fatalf("want OK, got %s %q %+v", res.Status, res.Summary, res.Diagnoses)
				}
				return
			}
			if res.Status == sdk.StatusOK || sdktest.Codes(res) == "" {
				t.Fatalf("OK for an answer that must be %s: %q", a.Expect, res.Summary)
			}
			var d *sdk.Diagnosis
			for i := range res.Diagnoses {
				if res.Diagnoses[i].Code == a.Expect {
					d = &res.Diagnoses[i]
				}
			}
			if d == nil {
				t.Fatalf("codes %q, want %s\n%+v", sdktest.Codes(res), a.Expect, res.Diagnoses)
			}
			for k, v := range a.ExpectDetails {
				if !strings.Contains(d.Details[k], v) {
					t.Errorf("details[%s] = %q, want it to contain %q (%+v)", k, d.Details[k], v, d.Details)
				}
			}
			for _, m := range a.ExpectMention {
				if !strings.Contains(d.Message, m) {
					t.Errorf("message does not mention %q: %s", m, d.Message)
				}
			}
			for _, m := range a.ExpectNotMention {
				if strings.Contains(d.Message, m) {
					t.Errorf("message mentions %q: %s", m, d.Message)
				}
			}
			for _, d := range res.Diagnoses {
				for k, v := range d.Details {
					if !utf8.ValidString(v) || len(v) > 1024 {
						t.Errorf("details[%s] is not bounded valid UTF-8: %q", k, v)
					}
				}
			}
			if up, _ := sdktest.Metric(res, "freepbx_api_up", nil); up != 0 {
				t.Errorf("freepbx_api_up = %v on an answer that is %s", up, a.Expect)
			}
		})
	}
}

// assertNoEncodedSecret fails when secret shows up in res plain, URL-,
// JSON- or base64-encoded.
func assertNoEncodedSecret(t *testing.T, res *sdk.Result, secret string) {
	t.Helper()
	all := fmt.Sprintf("%+v", *res)
	for _, form := range []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
		if strings.Contains(all, form) {
			t.Fatalf("result reveals the secret as %q: %s", form, all)
		}
	}
}

// TestDiagnosisTableCoversRecordedAnswers keeps docs/diagnoses.md and the
// recorded answers in step: every answer is a row naming its code, and
// every FreePBX row names a recorded answer.
func TestDiagnosisTableCoversRecordedAnswers(t *testing.T) {
	doc, err := os.ReadFile("../../docs/diagnoses.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`freepbx/") {
			continue
		}
		name := strings.TrimPrefix(strings.Trim(strings.TrimSpace(cells[1]), "`"), "freepbx/")
		rows[name] = strings.Trim(strings.TrimSpace(cells[len(cells)-2]), "`")
	}
	for _, a := range freepbxsim.Answers() {
		code, ok := rows[a.Name]
		switch {
		case !ok:
			t.Errorf("recorded answer %s has no row in docs/diagnoses.md", a.Name)
		case code != a.Expect:
			t.Errorf("docs/diagnoses.md row freepbx/%s says %s, the recorded answer expects %s", a.Name, code, a.Expect)
		}
		delete(rows, a.Name)
	}
	for name := range rows {
		t.Errorf("docs/diagnoses.md row freepbx/%s has no recorded answer in freepbxsim/answers", name)
	}
}

// TestEveryScenarioAsListed runs every simulator scenario on FreePBX 16
// and 17 with the default config and requires the result its listing
// promises (docs/freepbx.md shows the same table).
func TestEveryScenarioAsListed(t *testing.T) {
	for _, s := range freepbxsim.Scenarios() {
		for v, want := range map[int]string{16: s.Expect16, 17: s.Expect17} {
			t.Run(fmt.Sprintf("%d-%s", v, s.Name), func(t *testing.T) {
				t.Parallel()
				block := fmt.Sprintf("url: %s\nclient_id: %d-%s\nclient_secret_file: %s\n", simURL(t), v, s.Name, secretFile(t, testSecret))
				timeout := 5 * time.Second
				if s.Name == "slow" {
					timeout = 1500 * time.Millisecond // below the simulator's delay
				}
				res := checkWith(t, block, timeout)
				got := "OK"
				if len(res.Diagnoses) > 0 {
					got = res.Diagnoses[0].Code
				}
				if got != want || (want == "OK") != (res.Status == sdk.StatusOK) {
					t.Fatalf("%s %s, listed as %s: %q", res.Status, got, want, res.Summary)
				}
			})
		}
	}
}
