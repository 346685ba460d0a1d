package sdk

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/sdk/bounds"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2-long")
	for _, got := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v %q %x %X %d %10.3s", s, s, s, s, s, s, s, s)} {
		if strings.Contains(got, "hunter2") || strings.Contains(got, fmt.Sprintf("%x", "hunter2")) {
			t.Fatalf("printed: %s", got)
		}
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "password", s, "p", &s)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "password", s)
	if strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), "<secret>") {
		t.Fatalf("logged: %s", logs.String())
	}
	var back Secret
	if err := yaml.Unmarshal([]byte("hunter2-long"), &back); err != nil || back.Reveal() != "hunter2-long" {
		t.Fatalf("decoded %q, %v", back.Reveal(), err)
	}
	b, _ := json.Marshal(struct{ S Secret }{s})
	if strings.Contains(string(b), "hunter2") {
		t.Fatalf("marshalled: %s", b)
	}
	if s.Reveal() != "hunter2-long" {
		t.Fatal("Reveal")
	}
}

func TestLoadSecretFromCredentialsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "whmcs.secret"), []byte("  from-creds-dir\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	s, err := LoadSecret("secret", "", "whmcs.secret")
	if err != nil || s.Reveal() != "from-creds-dir" {
		t.Fatalf("%q %v", s.Reveal(), err)
	}
	if got := Scrub("token from-creds-dir here"); got != "token <secret> here" {
		t.Fatalf("not registered for scrubbing: %q", got)
	}
}

func TestLoadSecretErrors(t *testing.T) {
	if _, err := LoadSecret("secret", "a-value", "a-file"); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatal(err)
	}
	if _, err := LoadSecret("secret", "", ""); err == nil || !strings.Contains(err.Error(), "set secret_file") {
		t.Fatal(err)
	}
	if _, err := LoadSecret("secret", "", "/nonexistent/x"); err == nil || !strings.Contains(err.Error(), "secret_file") {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := LoadSecret("secret", "", empty); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatal(err)
	}
}

func TestScrubIgnoresTinyValues(t *testing.T) {
	RegisterSecret("ab")
	if Scrub("abc") != "abc" {
		t.Fatal("scrubbed a 2-byte secret")
	}
}

func TestWorseRanksUnknownBetweenWarningAndCritical(t *testing.T) {
	cases := []struct{ a, b, want Status }{
		{StatusOK, StatusWarning, StatusWarning},
		{StatusWarning, StatusUnknown, StatusUnknown},
		{StatusUnknown, StatusCritical, StatusCritical},
		{StatusCritical, StatusUnknown, StatusCritical},
	}
	for _, c := range cases {
		if got := Worse(c.a, c.b); got != c.want {
			t.Errorf("Worse(%v,%v)=%v", c.a, c.b, got)
		}
	}
}

func TestDiagnoseRaisesStatus(t *testing.T) {
	var r Result
	r.Diagnose(Diagnosis{Code: "a", Severity: SeverityWarning})
	r.Diagnose(Diagnosis{Code: "b", Severity: SeverityInfo})
	if r.Status != StatusWarning || len(r.Diagnoses) != 2 {
		t.Fatal(r)
	}
}

func TestConfigErrorsUseTheOriginalLines(t *testing.T) {
	cfg := NewConfig("c", "", "/etc/pbxwatch.yml", []byte("a: 1\nb: x\n"), map[int]int{1: 30, 2: 31})
	var v struct {
		A int `yaml:"a"`
		B int `yaml:"b"`
	}
	err := cfg.Decode(&v)
	if err == nil || !strings.Contains(err.Error(), "/etc/pbxwatch.yml:31: b must be a whole number") {
		t.Fatalf("err = %v", err)
	}
}

func TestToWireScrubsEveryString(t *testing.T) {
	RegisterSecret("sekrit-123")
	r := &Result{Status: StatusCritical, Summary: "x sekrit-123"}
	r.Diagnoses = []Diagnosis{{Message: "m sekrit-123", Remediation: []string{"r sekrit-123"}, Details: map[string]string{"k": "sekrit-123"}}}
	r.Events = []Event{{Message: "e sekrit-123", Labels: map[string]string{"l": "sekrit-123"}}}
	r.AddGauge("g", "", 1, map[string]string{"l": "sekrit-123"})
	w := toWire(r)
	if strings.Contains(w.String(), "sekrit-123") {
		t.Fatalf("secret on the wire: %s", w.String())
	}
}

func TestSecretsScrubbedInEveryEncodingOnTheWire(t *testing.T) {
	const secret = `p@ss:w/rd+%&"<>'\!#$()*[]=é`
	RegisterSecret(secret)
	echoed := "secret=" + url.QueryEscape(secret) + " " + html.EscapeString(secret) + " " + strconv.QuoteToASCII(secret) +
		" Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+secret)) + " " + string([]rune(secret)[:8]) + "…"
	res := &Result{Status: StatusCritical, Summary: echoed}
	res.Diagnose(Diagnosis{Code: "x.y", Severity: SeverityCritical, Message: echoed, Remediation: []string{echoed}, Details: map[string]string{"body": echoed}})
	res.AddGauge("x_info", "", 1, map[string]string{"v": echoed})
	res.Events = append(res.Events, Event{Name: "e", Message: echoed, Labels: map[string]string{"l": echoed}})
	b, err := json.Marshal(toWire(res))
	if err != nil {
		t.Fatal(err)
	}
	errs := splitErrors(errors.New("config: " + echoed))
	for _, out := range []string{string(b), strings.Join(errs, "\n")} {
		for _, piece := range []string{"p@ss:w", "p%40ss", "rd+%&", "cEBzczp3", "()*[]"} {
			if strings.Contains(out, piece) {
				t.Errorf("%q survived: %s", piece, out)
			}
		}
	}
}

// A Latin-1 byte or a 1 MiB body in a result must not make it
// unmarshalable (gRPC refuses invalid UTF-8) nor unbounded.
func TestHostileTextCrossesTheWireValidAndBounded(t *testing.T) {
	big := "caf\xe9 \x00\xff" + strings.Repeat("x", 1<<20)
	res := &Result{Status: StatusCritical, Summary: big}
	res.Diagnose(Diagnosis{Code: "x.y", Severity: SeverityCritical, Message: big, Details: map[string]string{"body": big}})
	res.AddGauge("x_info", "", 1, map[string]string{"version": big})
	w := toWire(res)
	b, err := proto.Marshal(w)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if len(b) > 16<<10 {
		t.Fatalf("%d bytes on the wire", len(b))
	}
	if !strings.HasPrefix(w.GetSummary(), `caf\xE9 `+"\x00"+`\xFF`) || len(w.GetSummary()) > bounds.Summary {
		t.Fatalf("summary %q", w.GetSummary()[:40])
	}
	if v := w.GetMetrics()[0].GetLabels()["version"]; len(v) > bounds.LabelValue {
		t.Fatalf("label of %d bytes", len(v))
	}
	if res.Summary != big {
		t.Fatal("toWire changed the plugin's own result")
	}
}

type withDefaults struct {
	URL string `yaml:"url"`
}

func (w *withDefaults) UnmarshalYAML(unmarshal func(any) error) error {
	*w = withDefaults{URL: "default"}
	type plain withDefaults
	return unmarshal((*plain)(w))
}

// A null block (`config: ~`, a bare tag) is an empty one: the type's
// defaults and validation run (found by fuzzing: the whmcs plugin
// crashed on "!").
func TestNullConfigBlockGetsDefaults(t *testing.T) {
	for _, raw := range []string{"", "~", "null", "\n!", "!!null"} {
		var w withDefaults
		if err := NewConfig("c", "", "", []byte(raw), nil).Decode(&w); err != nil || w.URL != "default" {
			t.Errorf("%q: %v %+v", raw, err, w)
		}
	}
}

func TestToWireCarriesTheLogEventMark(t *testing.T) {
	r := &Result{}
	r.Diagnose(Diagnosis{Code: "logtail.pattern_matched", Severity: SeverityWarning, LogEvent: "auth_failure"})
	r.Diagnose(Diagnosis{Code: "x.state", Severity: SeverityWarning})
	w := toWire(r)
	if got := w.GetDiagnoses()[0].GetLogEvent(); got != "auth_failure" {
		t.Fatalf("log_event on the wire = %q, want auth_failure", got)
	}
	if got := w.GetDiagnoses()[1].GetLogEvent(); got != "" {
		t.Fatalf("a state diagnosis carries log_event %q", got)
	}
}
