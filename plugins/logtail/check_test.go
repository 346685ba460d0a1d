package logtail

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/tailfile"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

func newChecker(t *testing.T, cfgYAML, stateDir string) (*checker, error) {
	t.Helper()
	c := &checker{}
	lines := map[int]int{}
	for i := 1; i <= strings.Count(cfgYAML, "\n")+1; i++ {
		lines[i] = i
	}
	err := c.Configure(context.Background(), sdk.NewConfig("logtail", stateDir, "pbxwatch.yml", []byte(cfgYAML), lines))
	return c, err
}

func mustChecker(t *testing.T, cfgYAML, stateDir string) *checker {
	t.Helper()
	c, err := newChecker(t, cfgYAML, stateDir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runCheck(t *testing.T, c *checker) *sdk.Result {
	t.Helper()
	res, err := c.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCheckStatusByHighestSeverityWithCountsSampleAndEvents(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	c := mustChecker(t, "path: "+path+"\nstart_at: beginning\n", t.TempDir())
	appendLines(t, path, 1, 3)
	res := runCheck(t, c)
	if res.Status != sdk.StatusOK || len(res.Diagnoses) != 0 || len(res.Events) != 0 {
		t.Fatalf("quiet log: %v %q %v", res.Status, res.Summary, res.Diagnoses)
	}

	appendRaw(t, path, "[2024-05-01 10:00:01] [freepbx.WARNING]: Authentication failure for admin from 203.0.113.7 [] []\n"+
		"[2024-05-01 10:00:02] [freepbx.WARNING]: Authentication failure for unknown from 203.0.113.8 token=abc123secretvalue [] []\n")
	res = runCheck(t, c)
	if res.Status != sdk.StatusWarning {
		t.Fatalf("status %v, want WARNING", res.Status)
	}
	d := sdktest.Diagnosis(res, "logtail.pattern_matched")
	if d == nil || d.LogEvent != "auth_failure" || d.Details["pattern"] != "auth_failure" || d.Details["count"] != "2" || !strings.Contains(d.Details["sample"], "Authentication failure for admin") {
		t.Fatalf("diagnosis %+v", d)
	}
	if len(res.Events) != 2 || res.Events[0].Name != "auth_failure" || res.Events[0].Labels["file"] != path || res.Events[1].Labels["level"] != "warning" {
		t.Fatalf("events %+v", res.Events)
	}

	appendRaw(t, path, "[2024-05-01 10:00:03] [freepbx.ERROR]: SQLSTATE[HY000] [2002] Connection refused, password=Db!Pa55w0rd [] []\n"+
		"[2024-05-01 10:00:04] [freepbx.WARNING]: Authentication failure for admin from 203.0.113.7 [] []\n")
	res = runCheck(t, c)
	if res.Status != sdk.StatusCritical || res.Diagnoses[0].Details["pattern"] != "sql_error" {
		t.Fatalf("status %v diagnoses %+v, want CRITICAL led by sql_error", res.Status, res.Diagnoses)
	}
	if v, _ := sdktest.Metric(res, "logtail_pattern_matches_total", map[string]string{"pattern": "auth_failure"}); v != 3 {
		t.Fatalf("auth_failure total %v, want 3", v)
	}
	if v, _ := sdktest.Metric(res, "logtail_lines_total", map[string]string{"level": "warning"}); v != 3 {
		t.Fatalf("warning lines %v, want 3", v)
	}
	if v, _ := sdktest.Metric(res, "logtail_lines_total", map[string]string{"level": "info"}); v != 3 {
		t.Fatalf("info lines %v, want 3", v)
	}
	b, _ := json.Marshal(res)
	for _, secret := range []string{"Db!Pa55w0rd", "abc123secretvalue"} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("secret %q in result: %s", secret, b)
		}
	}
	if d := sdktest.Diagnosis(res, "logtail.pattern_matched"); !strings.Contains(d.Details["sample"], "password=<redacted>") {
		t.Fatalf("no redaction marker in sample %q", d.Details["sample"])
	}
	size := float64(fileSize(t, path))
	for name, want := range map[string]float64{"logtail_file_size_bytes": size, "logtail_offset_bytes": size, "logtail_read_bytes_total": size, "logtail_rotations_total": 0} {
		if v, ok := sdktest.Metric(res, name, map[string]string{"file": path}); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
}

func TestCheckEventsAreCappedButCountsAreNot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	c := mustChecker(t, "path: "+path+"\nstart_at: beginning\n", t.TempDir())
	var b strings.Builder
	for i := 0; i < 250; i++ {
		b.WriteString("[2024-05-01 10:00:01] [freepbx_security.NOTICE]: Authentication failure for admin from 203.0.113.7 [] []\n")
	}
	appendRaw(t, path, b.String())
	res := runCheck(t, c)
	d := sdktest.Diagnosis(res, "logtail.pattern_matched")
	if len(res.Events) != maxEventsPerRun || d.Details["count"] != "250" || d.Details["events_dropped"] != "150" {
		t.Fatalf("%d events, details %v", len(res.Events), d.Details)
	}
}

func TestCheckMissingFileWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "freepbx.log")
	c := mustChecker(t, "path: "+path+"\n", t.TempDir())
	res := runCheck(t, c)
	d := sdktest.Diagnosis(res, "logtail.file_missing")
	if res.Status != sdk.StatusWarning || d == nil || d.Severity != sdk.SeverityWarning || !strings.Contains(d.Message, path) {
		t.Fatalf("status %v diagnoses %+v", res.Status, res.Diagnoses)
	}
	if _, ok := sdktest.Metric(res, "logtail_file_size_bytes", nil); ok {
		t.Fatal("size of a missing file reported")
	}
}

func TestCheckRestartKeepsTotalsAndPosition(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	cfg := "path: " + path + "\nstart_at: beginning\n"
	appendLines(t, path, 1, 5)
	runCheck(t, mustChecker(t, cfg, stateDir))
	appendLines(t, path, 6, 7)
	res := runCheck(t, mustChecker(t, cfg, stateDir)) // a new process
	if v, _ := sdktest.Metric(res, "logtail_lines_total", map[string]string{"level": "info"}); v != 7 {
		t.Fatalf("lines after restart %v, want 7", v)
	}
	if !strings.HasPrefix(res.Summary, "2 new lines") {
		t.Fatalf("summary %q", res.Summary)
	}
}

func TestCheckCorruptStateIsCriticalAndNotGuessed(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	appendLines(t, path, 1, 5)
	if err := os.WriteFile(tailfile.StateFile(stateDir, path), []byte("\x00\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCheck(t, mustChecker(t, "path: "+path+"\n", stateDir))
	if d := sdktest.Diagnosis(res, "logtail.state_corrupt"); res.Status != sdk.StatusCritical || d == nil {
		t.Fatalf("status %v diagnoses %+v", res.Status, res.Diagnoses)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]string{
		"format: json\n":       `format "json"`,
		"start_at: middle\n":   `start_at "middle"`,
		"max_line_bytes: 10\n": "max_line_bytes 10",
		"pathh: /x\n":          "pathh",
		"patterns:\n  - {name: Bad-Name, regex: x, severity: warning}\n":                                "Bad-Name",
		"patterns:\n  - {name: a, regex: '(', severity: warning}\n":                                     "missing closing )",
		"patterns:\n  - {name: a, regex: x, severity: loud}\n":                                          `severity "loud"`,
		"patterns:\n  - {name: a, regex: x}\n":                                                          "severity is required",
		"patterns:\n  - {name: a, regex: x, severity: info, colour: red}\n":                             "colour",
		"patterns:\n  - {name: a, regex: x, severity: info}\n  - {name: a, regex: y, severity: info}\n": "used twice",
	}
	for cfg, want := range cases {
		_, err := newChecker(t, cfg, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: error %v, want it to mention %q", cfg, err, want)
		}
	}
	// Validation errors name the file and line of the key at fault.
	_, err := newChecker(t, "path: /x\npatterns:\n  - name: ok\n    regex: x\n    severity: info\n  - name: bad\n    regex: '('\n    severity: loud\n", t.TempDir())
	for _, want := range []string{"pbxwatch.yml:7: patterns[1] (bad): regex", "pbxwatch.yml:8: patterns[1] (bad): severity \"loud\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	c := mustChecker(t, "", t.TempDir())
	if c.cfg.Path != defaultPath || len(c.cfg.Patterns) != len(defaultPatterns) || c.cfg.StartAt != "end" {
		t.Fatalf("defaults not applied: %+v", c.cfg)
	}
}

// Permission denied: run as an unprivileged user (root reads anything), in
// a child process running this test binary.
func TestCheckPermissionDeniedNamesGroupAsterisk(t *testing.T) {
	if p := os.Getenv("LOGTAIL_PERM_HELPER"); p != "" {
		c := mustChecker(t, "path: "+p+"\n", t.TempDir())
		res := runCheck(t, c)
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	// Not t.TempDir(): its parent is private to root.
	dir, err := os.MkdirTemp("", "logtail-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "freepbx.log")
	appendLines(t, path, 1, 2)
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckPermissionDeniedNamesGroupAsterisk$", "-test.v")
	cmd.Env = append(os.Environ(), "LOGTAIL_PERM_HELPER="+path)
	if os.Getuid() == 0 {
		// The test binary must be readable by the child's user.
		bin := filepath.Join(dir, "logtail.test")
		copyFile(t, os.Args[0], bin)
		os.Chmod(bin, 0o755)
		cmd.Path, cmd.Args[0] = bin, bin
		cmd.Dir = dir
		cmd.Env = append(cmd.Env, "HOME="+dir, "GOCACHE="+dir, "TMPDIR="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		os.Chmod(dir, 0o777)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	s := string(out)
	i := strings.Index(s, "{")
	var res sdk.Result
	if i < 0 || json.NewDecoder(strings.NewReader(s[i:])).Decode(&res) != nil {
		t.Fatalf("helper output:\n%s", out)
	}
	d := sdktest.Diagnosis(&res, "logtail.permission_denied")
	if res.Status != sdk.StatusCritical || d == nil {
		t.Fatalf("status %v diagnoses %+v", res.Status, res.Diagnoses)
	}
	if !strings.Contains(d.Message, "group asterisk") || !strings.Contains(strings.Join(d.Remediation, "\n"), "usermod -aG asterisk") {
		t.Fatalf("diagnosis does not name group asterisk: %+v", d)
	}
	if d.Details["mode"] != "-rw-------" {
		t.Fatalf("details %v", d.Details)
	}
	fmt.Fprintln(os.Stderr, "permission diagnosis:", d.Message)
}

func sdkConfig(yaml, stateDir string) *sdk.Config {
	return sdk.NewConfig("logtail", stateDir, "pbxwatch.yml", []byte(yaml), nil)
}

// A position saved before the reading moved to internal/tailfile loads
// with every field: the embedded structs keep the JSON keys.
func TestStateSavedBeforeTheMoveStillLoads(t *testing.T) {
	c := mustChecker(t, "path: /var/log/asterisk/freepbx.log\n", t.TempDir())
	file := c.log.StateFile()
	old := `{"version":1,"path":"/var/log/asterisk/freepbx.log","file":{"dev":2049,"ino":77,"fp_len":1024,"fp":"ab"},` +
		`"offset":4096,"scanned":12,"known":[{"len":10,"fp":"cd"}],"sibling_sig":"ef",` +
		`"totals":{"lines":{"info":7},"matches":{"sql_error":2},"read_bytes":4096,"rotations":3,"truncations":1,"oversized":5}}`
	if err := os.WriteFile(file, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &state{}
	if err := c.log.Load(st); err != nil {
		t.Fatal(err)
	}
	st.Totals.init()
	got := fmt.Sprintf("%+v %d %d %+v %s %v %v %+v %d", *st.File, st.Offset, st.Scanned, st.Known, st.SibSig,
		st.Totals.Lines, st.Totals.Matches, st.Totals.Counters, st.Totals.Oversized)
	want := "{Dev:2049 Ino:77 FPLen:1024 FP:ab} 4096 12 [{Len:10 FP:cd Dev:0 Ino:0}] ef map[info:7] map[sql_error:2] {ReadBytes:4096 Rotations:3 Truncations:1} 5"
	if got != want {
		t.Fatalf("loaded %s\nwant   %s", got, want)
	}
}

// Every built-in pattern waits for a line FreePBX writes, quoted here from
// the source that writes it; none waits for "ajaxRequest declined", which
// the framework's ajaxError() sends to the client without logging it (nor
// does the API module log a 401 or invalid_client).
func TestDefaultPatternsWaitForLinesFreePBXWrites(t *testing.T) {
	written := map[string]string{
		// framework gui_auth.php / UCP User.class.php, via freepbx_log_security()
		"auth_failure": "[2024-05-01 10:00:00] [freepbx_security.NOTICE]: Authentication failure for admin from 203.0.113.7 [] []",
		// PDOException messages logged by the framework's exception handler
		"sql_error": "[2024-05-01 10:00:00] [freepbx.ERROR]: SQLSTATE[HY000] [2002] No such file or directory [] []",
		// the manager connection failure (text inferred, see docs/logtail.md)
		"ami_unreachable": "[2024-05-01 10:00:00] [freepbx.ERROR]: Unable to connect to Asterisk Manager [] []",
	}
	m, err := newMatcher(defaultPatterns)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range defaultPatterns {
		line, ok := written[p.Name]
		if !ok {
			t.Errorf("built-in pattern %s has no line FreePBX writes: remove it or quote the line here", p.Name)
			continue
		}
		var got []string
		m.matchLine([]byte(line), func(i int, _ []byte) { got = append(got, defaultPatterns[i].Name) })
		if len(got) != 1 || got[0] != p.Name {
			t.Errorf("%q matched %v, want only %s", line, got, p.Name)
		}
	}
	declined := []byte(`[2024-05-01 10:00:00] [freepbx.WARNING]: {"error":"ajaxRequest declined"} [] []`)
	m.matchLine(declined, func(i int, _ []byte) {
		t.Errorf("a built-in pattern (%s) still waits for ajaxRequest declined", defaultPatterns[i].Name)
	})
}

// A negative offset in the position file was "seek: invalid argument" on
// every run; it is logtail.state_corrupt, with the fix (issue 23 item 8).
func TestNegativeOffsetIsStateCorrupt(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	appendLines(t, path, 1, 5)
	c := mustChecker(t, "path: "+path+"\nstart_at: beginning\n", stateDir)
	runCheck(t, c)
	file := c.log.StateFile()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	st["offset"] = -5
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 2; run++ {
		res := runCheck(t, mustChecker(t, "path: "+path+"\nstart_at: beginning\n", stateDir))
		d := sdktest.Diagnosis(res, "logtail.state_corrupt")
		if d == nil || res.Status != sdk.StatusCritical || !strings.Contains(d.Message, "offset -5 is negative") || !strings.Contains(d.Remediation[0], "delete it") {
			t.Fatalf("run %d: %s %q %+v", run, res.Status, res.Summary, res.Diagnoses)
		}
	}
}
