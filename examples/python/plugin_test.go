package python

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// secret is full of characters that break naive quoting or encoding.
const secret = `p@ss w0rd"'&<>%2F\n$` + "`x`"

// plugin returns the Python plugin's path, failing (not skipping) when
// Debian's Python gRPC is missing: scripts/check-test-deps.sh names it.
func plugin(t *testing.T) string {
	t.Helper()
	// The plugin's #! line names Debian's python3, not whichever is first on PATH.
	testutil.Tool(t, "python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import grpc, google.protobuf").Run(); err != nil {
		testutil.Unavailable(t, fmt.Sprintf("/usr/bin/python3 cannot import grpc (%v): install the Debian packages python3 python3-grpcio python3-protobuf", err))
	}
	p, err := filepath.Abs("pbxwatch-plugin-ami")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func secretFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "ami.secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func check(t *testing.T, cfg string) (*sdk.Result, *sdktest.Plugin) {
	t.Helper()
	p, err := sdktest.Start(t, plugin(t), sdktest.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return p.Check(context.Background()), p
}

func gauge(res *sdk.Result, name string) (float64, bool) {
	for _, m := range res.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

func TestAMIAnswersAndLoginWorks(t *testing.T) {
	sim := startAMISim(t, &amiSim{user: "pbxwatch", secret: secret})
	res, p := check(t, fmt.Sprintf("host: 127.0.0.1\nport: %s\nusername: pbxwatch\nsecret_file: %s\n", sim.port(), secretFile(t)))
	if res.Status != sdk.StatusOK || sdktest.Codes(res) != "" || !strings.Contains(res.Summary, "Asterisk Call Manager/5.0.2") || !strings.Contains(res.Summary, "login as pbxwatch works") {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if up, ok := gauge(res, "asterisk_ami_up"); !ok || up != 1 {
		t.Fatalf("up %v %v", up, ok)
	}
	if strings.Contains(p.Logs(), "secret") && strings.Contains(p.Logs(), secret) {
		t.Fatal("secret in logs")
	}
	// Runs repeat on one process.
	if res := p.Check(context.Background()); res.Status != sdk.StatusOK {
		t.Fatalf("second run: %v %q", res.Status, res.Summary)
	}
}

func TestAMIDiagnoses(t *testing.T) {
	good := startAMISim(t, &amiSim{user: "pbxwatch", secret: "right-one"})
	echo := startAMISim(t, &amiSim{user: "pbxwatch", secret: "right-one", echoSecretOnFail: true})
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	_, webPort, _ := net.SplitHostPort(strings.TrimPrefix(web.URL, "http://"))
	banner := startAMISim(t, &amiSim{banner: "SSH-2.0-OpenSSH_9.2"})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	_, closedPort, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	sf := secretFile(t)
	cases := []struct {
		name, cfg, code string
	}{
		{"wrong secret", "port: " + good.port() + "\nusername: pbxwatch\nsecret_file: " + sf + "\n", "ami.auth_failed"},
		{"unrecognised answer quoting the secret", "port: " + echo.port() + "\nusername: pbxwatch\nsecret_file: " + sf + "\n", "ami.login_unrecognised"},
		{"nothing listening", "port: " + closedPort + "\n", "ami.refused"},
		{"another program", "port: " + banner.port() + "\n", "ami.not_ami"},
		{"a web server that waits for a request", "port: " + webPort + "\n", "ami.timeout"},
	}
	for _, c := range cases {
		p, err := sdktest.Start(t, plugin(t), sdktest.Options{Config: c.cfg, Timeout: 3e9})
		if err != nil {
			t.Fatal(err)
		}
		res := p.Check(context.Background())
		if res.Status != sdk.StatusCritical || sdktest.Codes(res) != c.code {
			t.Errorf("%s: %v %q %s", c.name, res.Status, res.Summary, sdktest.Codes(res))
		}
		if up, ok := gauge(res, "asterisk_ami_up"); !ok || up != 0 {
			t.Errorf("%s: up %v %v", c.name, up, ok)
		}
		b, _ := json.Marshal(res)
		if strings.Contains(string(b), "p@ss w0rd") || strings.Contains(p.Logs(), "p@ss w0rd") {
			t.Errorf("%s: secret leaked: %s\n%s", c.name, b, p.Logs())
		}
		if c.code == "ami.login_unrecognised" && !strings.Contains(res.Diagnoses[0].Details["answer"], "no such secret <secret>") {
			t.Errorf("the echoed secret was not scrubbed to <secret>: %+v", res.Diagnoses)
		}
	}
}

func TestAMIConfigErrorsNameTheLine(t *testing.T) {
	_, err := sdktest.Start(t, plugin(t), sdktest.Options{Config: "host: 127.0.0.1\nport: 99999\nusername: x\nprot: 1\n"})
	if err == nil || !sdktest.IsConfigError(err) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"config:2: port must be between 1 and 65535", "config:3: secret is missing: set secret_file", `config:4: unknown key "prot"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
}

// TestPythonPluginThroughPbxwatchCheck installs the script in a plugin dir
// as an operator would (with its library beside it) and runs the agent.
func TestPythonPluginThroughPbxwatchCheck(t *testing.T) {
	sim := startAMISim(t, &amiSim{user: "pbxwatch", secret: secret})
	in := agenttest.New(t)
	creds := filepath.Join(in.Dir, "creds")
	if err := os.MkdirAll(creds, 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{plugin(t): "pbxwatch-plugin-ami", pyLib: "pbxwatch_plugin.py"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in.PluginDir, dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(creds, "ami.secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	in.Env = []string{"CREDENTIALS_DIRECTORY=" + creds}
	amiCheck := func(port string) string {
		return agenttest.Checks(agenttest.Check{Name: "asterisk_ami", Plugin: "ami", Config: "port: " + port + "\nusername: pbxwatch\nsecret_file: ami.secret\n"})
	}
	in.WriteConfig(amiCheck(sim.port()))
	res := in.Run("check", "--config.file="+in.Config, "--output=json", "--log.level=debug", "asterisk_ami")
	out := []byte(res.Stdout)
	if res.Exit != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.Exit, out, res.Stderr)
	}
	var run struct{ Status, Summary string }
	if err := json.Unmarshal(out, &run); err != nil || run.Status != "OK" || !strings.Contains(run.Summary, "login as pbxwatch works") {
		t.Fatalf("%v %s", err, out)
	}
	if strings.Contains(string(out)+res.Stderr, "p@ss w0rd") {
		t.Fatal("secret leaked")
	}
	// A wrong port, seen through validate: the plugin's line, in the agent's file.
	in.WriteConfig(amiCheck("0"))
	res = in.Run("validate", "--config.file="+in.Config)
	if res.Exit == 0 || !strings.Contains(res.Stdout+res.Stderr, in.Config+":8: port must be between 1 and 65535") {
		t.Fatalf("exit %d\n%s%s", res.Exit, res.Stdout, res.Stderr)
	}
}

// TestPythonPluginExitsWhenItsParentDies: killed without a shutdown (the
// agent SIGKILLed), the parent disappears; the plugin must notice, remove
// its socket directory and exit, as Go plugins do.
func TestPythonPluginExitsWhenItsParentDies(t *testing.T) {
	sockDir := t.TempDir()
	parent := exec.Command("/bin/sh", "-c", plugin(t)+" & echo pid=$!; wait")
	parent.Env = append(os.Environ(), "PBXWATCH_PLUGIN=7f3c9e1a-pbxwatch-check-plugin", "PLUGIN_UNIX_SOCKET_DIR="+sockDir, "PLUGIN_PROTOCOL_VERSIONS=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer parent.Process.Kill()
	sc := bufio.NewScanner(out)
	pid, handshake := 0, ""
	for (pid == 0 || handshake == "") && sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pid=") {
			pid, _ = strconv.Atoi(strings.TrimPrefix(line, "pid="))
		} else {
			handshake = line
		}
	}
	if pid == 0 || !strings.HasPrefix(handshake, "1|1|unix|"+sockDir+"/") || !strings.HasSuffix(handshake, "|grpc|") {
		t.Fatalf("pid %d, handshake %q", pid, handshake)
	}
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			break // exited, waiting for init to reap it
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d still running after its parent died", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if left, _ := os.ReadDir(sockDir); len(left) != 0 {
		t.Fatalf("socket directory left behind: %v", left)
	}
}
