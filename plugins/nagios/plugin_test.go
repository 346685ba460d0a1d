package nagios

// Tests of the real plugin binary over the real transport (sdktest),
// running the real Debian monitoring-plugins-basic binaries.

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

const (
	pluginPkg  = "github.com/pbxwatch/pbxwatch/plugins/nagios"
	nagiosDir  = "/usr/lib/nagios/plugins"
	checkDummy = nagiosDir + "/check_dummy"
)

// needNagios applies the missing-tool rule to monitoring-plugins-basic
// (the tests run its plugins from nagiosDir, where Debian installs them).
func needNagios(t *testing.T) {
	t.Helper()
	testutil.Tool(t, "check_dummy")
}

// run configures the plugin with the config block cfg and runs it once.
func run(t *testing.T, cfg string) *sdk.Result {
	t.Helper()
	p, err := start(t, cfg, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return p.Check(context.Background())
}

func start(t *testing.T, cfg string, timeout time.Duration) (*sdktest.Plugin, error) {
	t.Helper()
	return sdktest.Start(t, sdktest.Build(t, pluginPkg), sdktest.Options{Config: cfg, Timeout: timeout})
}

// yamlList renders args as a YAML flow list, each quoted.
func yamlList(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func TestCheckDummyExitCodesBecomeStatuses(t *testing.T) {
	needNagios(t)
	cases := []struct {
		code   string
		status sdk.Status
		diag   string
	}{
		{"0", sdk.StatusOK, ""},
		{"1", sdk.StatusWarning, codeWarning},
		{"2", sdk.StatusCritical, codeCritical},
		{"3", sdk.StatusUnknown, codeUnknown},
	}
	for _, c := range cases {
		res := run(t, "command: "+yamlList(checkDummy, c.code, "disk says hello")+"\n")
		if res.Status != c.status || !strings.Contains(res.Summary, "disk says hello") {
			t.Errorf("exit %s: %v %q", c.code, res.Status, res.Summary)
		}
		if c.diag == "" && len(res.Diagnoses) != 0 {
			t.Errorf("exit %s: diagnoses %+v", c.code, res.Diagnoses)
		}
		if c.diag != "" {
			d := sdktest.Diagnosis(res, c.diag)
			if d == nil || d.Details["exit_code"] != c.code || !strings.Contains(d.Message, "disk says hello") {
				t.Errorf("exit %s: diagnoses %+v", c.code, res.Diagnoses)
			}
		}
		if v, ok := sdktest.Metric(res, "nagios_plugin_exit_code", nil); !ok || strconv.Itoa(int(v)) != c.code {
			t.Errorf("exit %s: exit code metric %v %v", c.code, v, ok)
		}
	}
}

func TestCheckTCPAgainstALocalListener(t *testing.T) {
	needNagios(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	res := run(t, "command: "+yamlList(nagiosDir+"/check_tcp", "-H", "127.0.0.1", "-p", port, "-w", "5", "-c", "9")+"\n")
	if res.Status != sdk.StatusOK || !strings.Contains(res.Summary, "TCP OK") {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	v, ok := sdktest.Metric(res, "nagios_perfdata_value", map[string]string{"label": "time", "uom": "seconds"})
	if !ok || v <= 0 || v > 5 {
		t.Fatalf("time = %v %v; metrics %+v", v, ok, res.Metrics)
	}
	// "-w 5" is the range 0:5 seconds.
	if w, ok := sdktest.Metric(res, "nagios_perfdata_warning", map[string]string{"label": "time", "bound": "upper", "alert_when": "outside"}); !ok || w != 5 {
		t.Fatalf("warning upper = %v %v; metrics %+v", w, ok, res.Metrics)
	}
	l.Close()
	res = run(t, "command: "+yamlList(nagiosDir+"/check_tcp", "-H", "127.0.0.1", "-p", port)+"\n")
	if res.Status != sdk.StatusCritical || sdktest.Diagnosis(res, codeCritical) == nil {
		t.Fatalf("closed port: %v %q", res.Status, res.Summary)
	}
}

func TestCheckDiskBytesMatchStatfs(t *testing.T) {
	needNagios(t)
	dir := t.TempDir()
	res := run(t, "command: "+yamlList(nagiosDir+"/check_disk", "-w", "0%", "-c", "0%", "-p", dir)+"\n")
	if res.Status != sdk.StatusOK || !strings.Contains(res.Summary, "DISK OK") {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	size := float64(st.Blocks) * float64(st.Bsize)
	var used, max float64
	for _, m := range res.Metrics {
		if m.Labels["uom"] != "bytes" {
			continue
		}
		switch m.Name {
		case "nagios_perfdata_value":
			used = m.Value
		case "nagios_perfdata_max":
			max = m.Value
		}
	}
	// check_disk prints MB (MiB) or bytes depending on its version; either
	// way the exported value is bytes, within a MiB of the kernel's figure.
	if math.Abs(max-size) > 1<<20+1 {
		t.Fatalf("max %v bytes, statfs says %v; metrics %+v", max, size, res.Metrics)
	}
	if used <= 0 || used > max {
		t.Fatalf("used %v of %v", used, max)
	}
}

func TestCheckHTTPAgainstALocalServer(t *testing.T) {
	needNagios(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			http.Error(w, "database down", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "<html>FreePBX Administration</html>")
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	res := run(t, "command: "+yamlList(nagiosDir+"/check_http", "-H", host, "-p", port, "-u", "/admin", "-s", "FreePBX")+"\n")
	if res.Status != sdk.StatusOK || !strings.Contains(res.Summary, "HTTP OK") {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if v, ok := sdktest.Metric(res, "nagios_perfdata_value", map[string]string{"label": "size", "uom": "bytes"}); !ok || v < 30 {
		t.Fatalf("size %v %v: %+v", v, ok, res.Metrics)
	}
	if _, ok := sdktest.Metric(res, "nagios_perfdata_value", map[string]string{"label": "time", "uom": "seconds"}); !ok {
		t.Fatalf("no time: %+v", res.Metrics)
	}
	res = run(t, "command: "+yamlList(nagiosDir+"/check_http", "-H", host, "-p", port, "-u", "/broken")+"\n")
	if res.Status != sdk.StatusCritical || !strings.Contains(res.Summary, "500") {
		t.Fatalf("broken: %v %q", res.Status, res.Summary)
	}
}

func TestCheckProcsCountsOurProcess(t *testing.T) {
	needNagios(t)
	token := fmt.Sprintf("pbxwatch-nagios-test-%d", time.Now().UnixNano())
	// A process whose argument list holds a unique token.
	sleeper := exec.Command("/bin/sh", "-c", "sleep 60 # "+token)
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	res := run(t, "command: "+yamlList(nagiosDir+"/check_procs", "-a", token, "-w", "1:1", "-c", "1:")+"\n")
	if res.Status != sdk.StatusOK {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if v, ok := sdktest.Metric(res, "nagios_perfdata_value", map[string]string{"label": "procs"}); !ok || v != 1 {
		t.Fatalf("procs = %v %v", v, ok)
	}
	if lo, ok := sdktest.Metric(res, "nagios_perfdata_critical", map[string]string{"label": "procs", "bound": "lower"}); !ok || lo != 1 {
		t.Fatalf("critical lower = %v %v: %+v", lo, ok, res.Metrics)
	}
	if _, ok := sdktest.Metric(res, "nagios_perfdata_critical", map[string]string{"label": "procs", "bound": "upper"}); ok {
		t.Fatalf("an open range exported an upper bound: %+v", res.Metrics)
	}
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check_script")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLongOutputAndPerfdataOnSeveralLines(t *testing.T) {
	res := run(t, "command: ["+script(t, `cat <<'X'
WARNING - 2 trunks down | 'trunk up'=3;;;0;5
trunk-a: registered
trunk-b: rejected (403) | 'queue wait'=250ms;@100:200;500
'it''s'=7c
X
exit 1
`)+"]\n")
	if res.Status != sdk.StatusWarning || res.Summary != "WARNING - 2 trunks down" {
		t.Fatalf("%v %q", res.Status, res.Summary)
	}
	d := sdktest.Diagnosis(res, codeWarning)
	if d == nil || d.Details["long_output"] != "trunk-a: registered\ntrunk-b: rejected (403)" {
		t.Fatalf("%+v", res.Diagnoses)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"nagios_perfdata_value", map[string]string{"label": "trunk up", "uom": ""}, 3},
		{"nagios_perfdata_max", map[string]string{"label": "trunk up"}, 5},
		{"nagios_perfdata_value", map[string]string{"label": "queue wait", "uom": "seconds"}, 0.25},
		{"nagios_perfdata_warning", map[string]string{"label": "queue wait", "bound": "lower", "alert_when": "inside"}, 0.1},
		{"nagios_perfdata_warning", map[string]string{"label": "queue wait", "bound": "upper", "alert_when": "inside"}, 0.2},
		{"nagios_perfdata_critical", map[string]string{"label": "queue wait", "bound": "upper", "alert_when": "outside"}, 0.5},
		{"nagios_perfdata_value", map[string]string{"label": "it's", "uom": "counter"}, 7},
	} {
		if v, ok := sdktest.Metric(res, c.name, c.labels); !ok || math.Abs(v-c.want) > 1e-9 {
			t.Errorf("%s%v = %v %v, want %v", c.name, c.labels, v, ok, c.want)
		}
	}
}

func TestMalformedPerfdataIsQuotedNotFatal(t *testing.T) {
	res := run(t, "command: ["+script(t, "echo 'OK | good=1 bad=1;2;3;4;5;6'\n")+"]\n")
	if res.Status != sdk.StatusOK {
		t.Fatalf("%v", res.Status)
	}
	d := sdktest.Diagnosis(res, codeBadPerfdata)
	if d == nil || d.Severity != sdk.SeverityInfo || !strings.Contains(d.Details["problem_1"], "bad=1;2;3;4;5;6") {
		t.Fatalf("%+v", res.Diagnoses)
	}
	if _, ok := sdktest.Metric(res, "nagios_perfdata_value", map[string]string{"label": "good"}); !ok {
		t.Fatal("good item lost")
	}
}

func TestUndefinedExitCodeSignalAndMissingBinaryAreUnknown(t *testing.T) {
	cases := []struct {
		name, cfg, code, want string
	}{
		{"exit 7", "command: [" + script(t, "echo 'usage: check_thing -H host'; echo 'check_thing: -H is required' >&2; exit 7\n") + "]\n", codeBadExit, "exited with code 7, which Nagios does not define (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN): usage: check_thing -H host"},
		{"signal", "command: [" + script(t, "echo half; kill -9 $$\n") + "]\n", codeSignal, "killed by signal killed"},
		{"shell not found", "shell: true\ncommand: /nonexistent/check_x\n", codeBadExit, "exited with code 127"},
	}
	for _, c := range cases {
		res := run(t, c.cfg)
		d := sdktest.Diagnosis(res, c.code)
		if res.Status != sdk.StatusUnknown || d == nil || !strings.Contains(res.Summary, c.want) {
			t.Errorf("%s: %v %q %+v", c.name, res.Status, res.Summary, res.Diagnoses)
		}
		if c.name == "exit 7" && (d == nil || d.Details["stderr"] != "check_thing: -H is required") {
			t.Errorf("stderr not quoted as evidence: %+v", res.Diagnoses)
		}
	}
	// A binary that vanished after Configure validated it.
	bin := script(t, "exit 0\n")
	p, err := start(t, "command: ["+bin+"]\n", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(bin)
	res := p.Check(context.Background())
	if res.Status != sdk.StatusUnknown || sdktest.Diagnosis(res, codeExecFailed) == nil {
		t.Fatalf("%v %q", res.Status, res.Summary)
	}
}

func TestTimeoutKillsTheWholeProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	bin := script(t, "sleep 300 &\necho $! > "+pidFile+"\nsleep 300\n")
	p, err := start(t, "command: ["+bin+"]\n", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	res := p.Check(context.Background())
	if res.Status != sdk.StatusUnknown || sdktest.Diagnosis(res, codeTimeout) == nil {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if took := time.Since(begin); took > 3*time.Second {
		t.Fatalf("took %s", took)
	}
	assertGone(t, pidFile)
}

func TestForkedChildHoldingStdoutDoesNotHang(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The child inherits stdout and outlives the plugin, as a careless
	// plugin that starts a daemon would.
	bin := script(t, "echo 'OK - started | x=1'\nsleep 300 &\necho $! > "+pidFile+"\nexit 0\n")
	p, err := start(t, "command: ["+bin+"]\n", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	res := p.Check(context.Background())
	if res.Status != sdk.StatusOK || res.Summary != "OK - started" {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Fatalf("waited %s for the child", took)
	}
	assertGone(t, pidFile)
}

// assertGone waits for the process whose pid is in pidFile to disappear.
func assertGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		// A zombie is gone for our purpose: it holds no resources.
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still running", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLargeOutputIsBoundedAndGarbageMadeValid(t *testing.T) {
	// 200 KB of long output after a first line with binary bytes (a run of
	// invalid bytes becomes one U+FFFD, a control character another).
	bin := script(t, `printf 'OK \377\376 bin\001ary | a=1\n'; head -c 200000 /dev/zero | tr '\0' 'x'; echo; exit 0`+"\n")
	res := run(t, "command: ["+bin+"]\nmax_output_bytes: 8192\n")
	if res.Status != sdk.StatusOK || !strings.HasPrefix(res.Summary, "OK \uFFFD bin\uFFFDary") {
		t.Fatalf("%v %q", res.Status, res.Summary)
	}
	if sdktest.Diagnosis(res, codeTruncated) == nil {
		t.Fatalf("no truncation diagnosis: %+v", res.Diagnoses)
	}
	long := sdktest.Diagnosis(res, codeOutput)
	if long == nil || len(long.Details["long_output"]) > 8192 {
		t.Fatalf("long output not bounded: %d", len(long.Details["long_output"]))
	}
	// A few KB, below the default bound, arrive whole.
	bin = script(t, `echo 'OK'; head -c 6000 /dev/zero | tr '\0' 'y'; echo`+"\n")
	res = run(t, "command: ["+bin+"]\n")
	if d := sdktest.Diagnosis(res, codeOutput); d == nil || len(d.Details["long_output"]) != 6000 || sdktest.Diagnosis(res, codeTruncated) != nil {
		t.Fatalf("%+v", res.Diagnoses)
	}
}

func TestConfigErrorsNameTheLine(t *testing.T) {
	cases := []struct{ cfg, want string }{
		{"command: check_disk -p /\n", "config:1: command is a string"},
		{"command: [check_disk]\n", `config:1: command: "check_disk" is not an absolute path`},
		{"command: [/nonexistent/check_disk]\n", "config:1: command: /nonexistent/check_disk: stat"},
		{"shell: true\ncommand: [/bin/true]\n", "config:2: shell: true needs command as one string"},
		{"max_output_bytes: 0\ncommand: [/bin/true]\n", "max_output_bytes must be between"},
		{"commnd: [/bin/true]\n", `config:1: unknown key "commnd"`},
		{"shell: false\ncommand: {path: /bin/true}\n", "config:2: command must be a list such as [/usr/lib/nagios/plugins/check_disk"},
		{"", "command is required"},
	}
	for _, c := range cases {
		_, err := start(t, c.cfg, time.Second)
		if err == nil || !sdktest.IsConfigError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestShellWhenAsked(t *testing.T) {
	needNagios(t)
	res := run(t, "shell: true\ncommand: \""+checkDummy+" 1 \\\"$HOME-ish\\\" | tr a-z A-Z; exit 1\"\nenv: {HOME: /var/lib/pbxwatch}\n")
	if res.Status != sdk.StatusWarning || res.Summary != "WARNING: /VAR/LIB/PBXWATCH-ISH" {
		t.Fatalf("%v %q", res.Status, res.Summary)
	}
}

func TestSecretEnvIsPassedAndScrubbed(t *testing.T) {
	const secret = `pa$$ "w0rd"&<x>`
	// The plugin echoes the secret it was given, as a verbose plugin might.
	bin := script(t, `echo "CRITICAL - login with $PASS refused | t=1s"; echo "pass=$PASS" >&2; exit 2`+"\n")
	p, err := start(t, "command: ["+bin+"]\nsecret_env: {PASS: '"+secret+"'}\n", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res := p.Check(context.Background())
	if res.Status != sdk.StatusCritical || res.Summary != "CRITICAL - login with <secret> refused" {
		t.Fatalf("%v %q", res.Status, res.Summary)
	}
	all := fmt.Sprintf("%+v", res) + p.Logs()
	if strings.Contains(all, "w0rd") {
		t.Fatalf("secret leaked: %s", all)
	}
}
