package main_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

const failingScript = `status: CRITICAL
summary: trunk down
diagnoses:
  - {code: trunk.down, severity: critical, message: The trunk does not answer., remediation: [Call the provider.], details: {peer: provider-1}}
`

// TestStatusAPIHasTheCheckShapePlusHistory: /api/v1/checks and
// /api/v1/checks/NAME answer what `pbxwatch check --output=json` prints,
// plus last_run, next_run, history and alerts; alerts link back to the
// check's page under --web.external-url.
func TestStatusAPIHasTheCheckShapePlusHistory(t *testing.T) {
	am := startAlertmanager(t)
	e := newEnv(t)
	e.setScript(failingScript)
	e.WriteConfig(fmt.Sprintf("alerting:\n  alertmanagers: [{url: %q}]\n  resend_interval: 1s\nchecks:\n%s", am.url, e.scriptedCheck("trunk", "@every 1s", "5s")))
	d := e.start("--web.external-url=https://pbx.example.test:9851/")
	d.WaitFor("two runs", func() bool { return d.Metric(`pbxwatch_check_runs_total{check="trunk",result="critical"}`) >= 2 })

	body, code := d.Fetch("/api/v1/checks")
	var list []map[string]any
	if err := json.Unmarshal([]byte(body), &list); err != nil || code != 200 || len(list) != 1 {
		t.Fatalf("GET /api/v1/checks: %d %v\n%s", code, err, body)
	}
	one, code := d.Fetch("/api/v1/checks/trunk")
	var got map[string]any
	if err := json.Unmarshal([]byte(one), &got); err != nil || code != 200 {
		t.Fatalf("GET /api/v1/checks/trunk: %d %v\n%s", code, err, one)
	}
	cli, _, _ := e.cli("check", "--schedule.min-interval=1s", "--config.file="+e.Config, "--output=json", "trunk")
	var want map[string]any
	if err := json.Unmarshal([]byte(cli), &want); err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("API lacks the check output's key %q", k)
		}
	}
	for _, k := range []string{"last_run", "next_run", "history", "alerts"} {
		if _, ok := got[k]; !ok {
			t.Errorf("API lacks %q:\n%s", k, one)
		}
	}
	if got["status"] != "CRITICAL" || got["diagnoses"].([]any)[0].(map[string]any)["code"] != "trunk.down" {
		t.Errorf("got %v", got)
	}
	if _, err := time.Parse(time.RFC3339, got["last_run"].(string)); err != nil {
		t.Errorf("last_run %v", got["last_run"])
	}
	hist := got["history"].(map[string]any)
	if n := len(hist["runs"].([]any)); n < 2 {
		t.Errorf("history has %d runs", n)
	}
	if ch := hist["changes"].([]any); len(ch) != 1 || ch[0].(map[string]any)["to"] != "CRITICAL" {
		t.Errorf("changes %v", ch)
	}
	for _, p := range []string{"/api/v1/checks/nope", "/checks/nope"} {
		if _, code := d.Fetch(p); code != 404 {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}

	// The alert links to the check's page.
	var gen string
	d.WaitFor("the alert with its generatorURL", func() bool {
		resp, err := http.Get(am.url + "/api/v2/alerts?active=true")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var alerts []struct {
			GeneratorURL string `json:"generatorURL"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&alerts)
		if len(alerts) == 1 {
			gen = alerts[0].GeneratorURL
		}
		return gen != ""
	})
	if gen != "https://pbx.example.test:9851/checks/trunk" {
		t.Errorf("generatorURL %q", gen)
	}
}

// TestStatusPagesBehindTLSAndBasicAuth: --web.config.file protects the
// status pages and API like every other endpoint.
func TestStatusPagesBehindTLSAndBasicAuth(t *testing.T) {
	e := newEnv(t)
	e.setScript(failingScript)
	e.writeConfig(e.scriptedCheck("trunk", "@every 1h", "5s"))
	dir := t.TempDir()
	cert, err := whmcssim.NewCert([]string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.TLS.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(`pa:ss w&rd`), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.TLS.Certificate[0]}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
		"web.yml": []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  ops: %s\n",
			filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), hash)),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cert.CAPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	addr := agenttest.FreeAddr(t)
	d := e.Start(agenttest.Options{Args: []string{"--web.listen-address=" + addr, "--web.config.file=" + filepath.Join(dir, "web.yml")}, NoWait: true})
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
		if auth {
			req.SetBasicAuth("ops", `pa:ss w&rd`)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, body := get("/", true); code == 200 && strings.Contains(body, "trunk.down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status page never served over TLS with auth:\n%s", d.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range []string{"/", "/checks/trunk", "/api/v1/checks", "/api/v1/checks/trunk"} {
		if code, _ := get(p, false); code != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d, want 401", p, code)
		}
		if code, body := get(p, true); code != 200 || !strings.Contains(body, "trunk") {
			t.Errorf("GET %s with credentials: %d", p, code)
		}
	}
}
