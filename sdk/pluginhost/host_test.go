package pluginhost_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
	"github.com/pbxwatch/pbxwatch/sdk/internal/buildtest"
	"github.com/pbxwatch/pbxwatch/sdk/pluginhost"
)

const scriptedPkg = "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/scripted"

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type fixture struct {
	host     *pluginhost.Host
	script   string
	logs     *logBuf
	restarts atomic.Int32
}

func start(t *testing.T, extraConfig string, tweak func(*pluginhost.Spec)) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{script: filepath.Join(dir, "script.yaml"), logs: &logBuf{}}
	f.setScript(t, "status: OK\nsummary: fine\n")
	spec := pluginhost.Spec{
		Check:             "t",
		Plugin:            "scripted",
		Binary:            buildtest.Build(t, scriptedPkg),
		StateDir:          dir,
		ConfigYAML:        []byte("script_file: " + f.script + "\n" + extraConfig),
		Logger:            slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		KillGrace:         500 * time.Millisecond,
		RestartBackoff:    time.Hour,
		MaxRestartBackoff: 2 * time.Hour,
		OnRestart:         func() { f.restarts.Add(1) },
	}
	if tweak != nil {
		tweak(&spec)
	}
	h, err := pluginhost.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(h.Close)
	f.host = h
	return f
}

func (f *fixture) setScript(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile(f.script, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits for the plugin's stderr, relayed asynchronously, to show want.
func (f *fixture) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(f.logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never showed %q:\n%s", want, f.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) run(timeout time.Duration) *sdk.Result {
	return f.host.Run(context.Background(), timeout)
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// waitGone waits for pid to disappear (it may be a zombie briefly).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) || isZombie(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d still running", pid)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

func code(r *sdk.Result) string {
	if len(r.Diagnoses) == 0 {
		return ""
	}
	return r.Diagnoses[0].Code
}

func TestRunReturnsPluginResult(t *testing.T) {
	f := start(t, "", nil)
	f.setScript(t, `status: WARNING
summary: two things
diagnoses:
  - code: test.thing
    severity: warning
    message: a thing is off
    remediation: [do this, then that]
    details: {ip: 192.0.2.1}
metrics:
  - {name: test_value, help: A value., value: 42, labels: {a: b}}
events:
  - {name: matched, severity: warning, message: a line}
`)
	r := f.run(5 * time.Second)
	if r.Status != sdk.StatusWarning || r.Summary != "two things" {
		t.Fatalf("got %v %q", r.Status, r.Summary)
	}
	d := r.Diagnoses[0]
	if d.Code != "test.thing" || d.Severity != sdk.SeverityWarning || len(d.Remediation) != 2 || d.Details["ip"] != "192.0.2.1" {
		t.Fatalf("diagnosis %+v", d)
	}
	if len(r.Metrics) != 2 || r.Metrics[0].Name != "test_value" || r.Metrics[0].Value != 42 || r.Metrics[0].Labels["a"] != "b" {
		t.Fatalf("metrics %+v", r.Metrics)
	}
	if len(r.Events) != 1 || r.Events[0].Message != "a line" || r.Events[0].Time.IsZero() {
		t.Fatalf("events %+v", r.Events)
	}
}

func TestPanicInCheckIsUnknownAndProcessSurvives(t *testing.T) {
	f := start(t, "", nil)
	pid := f.host.PID()
	f.setScript(t, "behave: panic\n")
	r := f.run(5 * time.Second)
	if r.Status != sdk.StatusUnknown || !strings.Contains(r.Summary, "scripted panic") {
		t.Fatalf("got %v %q", r.Status, r.Summary)
	}
	f.waitLog(t, "Check panicked")
	f.setScript(t, "status: OK\n")
	if r := f.run(5 * time.Second); r.Status != sdk.StatusOK {
		t.Fatalf("after panic: %v %q", r.Status, r.Summary)
	}
	if f.host.PID() != pid {
		t.Errorf("plugin restarted after a recovered panic")
	}
}

func TestCrashedPluginIsRestartedOnNextRun(t *testing.T) {
	f := start(t, "", nil)
	pid := f.host.PID()
	f.setScript(t, "behave: exit\n")
	r := f.run(5 * time.Second)
	if r.Status != sdk.StatusUnknown || code(r) != sdk.CodePluginCrashed {
		t.Fatalf("got %v %q %q", r.Status, code(r), r.Summary)
	}
	f.waitLog(t, "scripted crash")
	waitGone(t, pid)
	f.setScript(t, "status: OK\n")
	r = f.run(5 * time.Second)
	if r.Status != sdk.StatusOK {
		t.Fatalf("after crash: %v %q", r.Status, r.Summary)
	}
	if f.restarts.Load() != 1 || f.host.PID() == pid || f.host.PID() == 0 {
		t.Fatalf("restarts=%d pid %d -> %d", f.restarts.Load(), pid, f.host.PID())
	}
}

func TestRepeatedCrashesBackOff(t *testing.T) {
	f := start(t, "", nil) // RestartBackoff is an hour
	f.setScript(t, "behave: exit\n")
	f.run(5 * time.Second) // crash 1: restart allowed at next run
	f.run(5 * time.Second) // restart, crash 2: back off an hour
	r := f.run(5 * time.Second)
	if code(r) != sdk.CodePluginRestartBackoff || !strings.Contains(r.Summary, "next restart attempt in 1h") {
		t.Fatalf("got %q %q", code(r), r.Summary)
	}
	if f.restarts.Load() != 1 {
		t.Fatalf("restarts = %d, want 1", f.restarts.Load())
	}
}

func TestSIGKILLBetweenRunsRestarts(t *testing.T) {
	f := start(t, "", nil)
	pid := f.host.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	time.Sleep(100 * time.Millisecond) // let go-plugin notice the exit
	r := f.run(5 * time.Second)
	if r.Status != sdk.StatusOK {
		t.Fatalf("run after SIGKILL: %v %q", r.Status, r.Summary)
	}
	if f.restarts.Load() != 1 || f.host.PID() == pid {
		t.Fatalf("restarts=%d pid %d -> %d", f.restarts.Load(), pid, f.host.PID())
	}
	if !strings.Contains(f.logs.String(), "signal: killed") {
		t.Errorf("exit reason not logged:\n%s", f.logs)
	}
}

func TestHungPluginAndChildAreKilled(t *testing.T) {
	f := start(t, "", nil)
	pid := f.host.PID()
	childFile := filepath.Join(t.TempDir(), "child.pid")
	f.setScript(t, "behave: hang_child\npid_file: "+childFile+"\n")
	began := time.Now()
	r := f.run(300 * time.Millisecond)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("run took %s; want about timeout+grace", took)
	}
	if r.Status != sdk.StatusUnknown || code(r) != sdk.CodePluginKilled || !strings.Contains(r.Summary, "ignored cancellation") {
		t.Fatalf("got %v %q %q", r.Status, code(r), r.Summary)
	}
	b, err := os.ReadFile(childFile)
	if err != nil {
		t.Fatalf("child pid: %v", err)
	}
	child, _ := strconv.Atoi(string(b))
	waitGone(t, pid)
	waitGone(t, child)
}

func TestTimeoutHonouredByPluginKeepsProcess(t *testing.T) {
	f := start(t, "", nil)
	pid := f.host.PID()
	f.setScript(t, "behave: sleep\nsleep: 1h\n")
	r := f.run(200 * time.Millisecond)
	if code(r) != sdk.CodePluginTimeout || !strings.Contains(r.Summary, "200ms timeout") {
		t.Fatalf("got %q %q", code(r), r.Summary)
	}
	if f.host.PID() != pid || !alive(pid) {
		t.Fatalf("plugin that honoured its deadline was replaced")
	}
}

func TestStdoutAfterHandshakeIsReported(t *testing.T) {
	f := start(t, "", nil)
	f.setScript(t, "behave: stdout\nstatus: OK\n")
	if r := f.run(5 * time.Second); r.Status != sdk.StatusOK {
		t.Fatalf("got %v %q", r.Status, r.Summary)
	}
	f.waitLog(t, "plugin wrote to stdout")
}

func TestStdoutBeforeHandshakeIsAClearError(t *testing.T) {
	// Built before the clock starts: the bound is on the handshake, and a
	// build on a loaded machine may take longer than that alone.
	bin := buildtest.Build(t, "github.com/pbxwatch/pbxwatch/sdk/pluginhost/internal/testplugins/noisy")
	began := time.Now()
	_, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "t", Plugin: "noisy",
		Binary: bin,
	})
	if err == nil || !strings.Contains(err.Error(), "to stdout before its handshake") || !strings.Contains(err.Error(), "starting my plugin v1.2") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(began) > 5*time.Second {
		t.Errorf("took %s: the handshake hung", time.Since(began))
	}
}

func TestConfigRejected(t *testing.T) {
	_, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "t", Plugin: "scripted",
		Binary:     buildtest.Build(t, scriptedPkg),
		ConfigYAML: []byte("reject: url is required\n"),
	})
	var ce *pluginhost.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0] != "url is required" {
		t.Fatalf("err = %v", err)
	}
	_, err = pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "t", Plugin: "scripted",
		Binary:     buildtest.Build(t, scriptedPkg),
		ConfigYAML: []byte("script_file: x\nbogus: 1\n"),
		SourceFile: "/etc/pbxwatch/pbxwatch.yml",
		LineMap:    map[int]int{1: 20, 2: 21},
	})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "/etc/pbxwatch/pbxwatch.yml:21") || !strings.Contains(err.Error(), `unknown key "bogus"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretsAreScrubbed(t *testing.T) {
	const secret = "s3cr3t-value-XYZ"
	f := start(t, "secret: "+secret+"\n", nil)
	f.setScript(t, "behave: leak_secret\n")
	r := f.run(5 * time.Second)
	if strings.Contains(r.Summary, secret) || !strings.Contains(r.Summary, "<secret>") {
		t.Fatalf("summary %q", r.Summary)
	}
	f.waitLog(t, "about to leak")
	if logs := f.logs.String(); strings.Contains(logs, secret) {
		t.Fatalf("secret in logs:\n%s", logs)
	}
}

func TestChecksumMismatchRefusesToStart(t *testing.T) {
	_, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "t", Plugin: "scripted",
		Binary: buildtest.Build(t, scriptedPkg),
		SHA256: strings.Repeat("ab", 32),
	})
	if err == nil || !strings.Contains(err.Error(), "does not match its configured sha256") {
		t.Fatalf("err = %v", err)
	}
}

func TestChecksumMatchStarts(t *testing.T) {
	bin := buildtest.Build(t, scriptedPkg)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	h, err := pluginhost.Start(context.Background(), pluginhost.Spec{
		Check: "t", Plugin: "scripted", Binary: bin, SHA256: hex.EncodeToString(sum[:]), StateDir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("start with the right digest: %v", err)
	}
	h.Close()
}

// Latin-1 and binary bytes and megabytes of text from a plugin reach the
// agent as the plugin's own diagnosis (not a crash), valid, bounded, with
// every cut counted.
func TestHostileTextArrivesValidBoundedAndCounted(t *testing.T) {
	var mu sync.Mutex
	cuts := map[string]int{}
	f := start(t, "", func(s *pluginhost.Spec) {
		s.OnTruncate = func(what string) { mu.Lock(); cuts[what]++; mu.Unlock() }
	})
	f.setScript(t, "behave: hostile_text\n")
	r := f.run(10 * time.Second)
	if code(r) != "scripted.hostile" {
		t.Fatalf("got %q %.200q", code(r), r.Summary)
	}
	if !strings.HasPrefix(r.Summary, `caf\xE9 `+"\x00"+`\xFF`) || len(r.Summary) > bounds.Summary || !utf8.ValidString(r.Summary) {
		t.Fatalf("summary %d bytes: %.60q", len(r.Summary), r.Summary)
	}
	d := r.Diagnoses[0]
	if len(d.Message) > bounds.Message || len(d.Details["body"]) > bounds.DetailValue || len(d.Remediation[0]) > bounds.RemediationStep {
		t.Fatalf("diagnosis not bounded: %d %d %d", len(d.Message), len(d.Details["body"]), len(d.Remediation[0]))
	}
	if v := r.Metrics[0].Labels["version"]; len(v) > bounds.LabelValue {
		t.Fatalf("label value of %d bytes", len(v))
	}
	if len(r.Events[0].Message) > bounds.EventMessage {
		t.Fatalf("event of %d bytes", len(r.Events[0].Message))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, what := range []string{"summary", "message", "remediation", "detail", "label_value", "event_message"} {
		if cuts[what] == 0 {
			t.Errorf("cut of %s not counted (counted: %v)", what, cuts)
		}
	}
	f.waitLog(t, "plugin stderr line cut")
}
