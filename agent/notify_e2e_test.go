package main_test

// What a person receives: the real agent runs the whmcs plugin against the
// WHMCS simulator; a real Alertmanager (Debian's prometheus-alertmanager)
// runs the shipped configs/alertmanager/alertmanager.yml and its templates
// with only the addresses (and group_interval, for the resolved mail)
// rewritten to this test's; its smarthost is a real SMTP server (Debian's
// python3-aiosmtpd) writing a Maildir, its Slack receiver a loopback sink.
// The HTML mail is rendered in headless Chromium and saved as
// notification-mail.png.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
	"github.com/pbxwatch/pbxwatch/internal/testutil/agenttest"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// mailSecret is the WHMCS API secret of the test: every character an
// encoding changes, and template syntax.
const mailSecret = `Mx&<"q'>/%+ =?#\ü{{ .Status }}$9`

// debianPython is Debian's interpreter, whose python3-aiosmtpd the test
// runs (a python3 earlier on PATH, from pyenv say, lacks it).
const debianPython = "/usr/bin/python3"

// smtpServer runs aiosmtpd on a free loopback port; every message lands
// in the Maildir dir/new.
func smtpServer(t *testing.T) (addr, maildir string) {
	t.Helper()
	testutil.Tool(t, "python3")
	if err := exec.Command(debianPython, "-c", "import aiosmtpd").Run(); err != nil {
		testutil.Unavailable(t, debianPython+" cannot import aiosmtpd: install the Debian package python3-aiosmtpd (sudo apt-get install python3-aiosmtpd)")
	}
	maildir = filepath.Join(t.TempDir(), "Maildir")
	addr = agenttest.FreeAddr(t)
	cmd := exec.Command(debianPython, "-m", "aiosmtpd", "-n", "-l", addr, "-c", "aiosmtpd.handlers.Mailbox", maildir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("aiosmtpd output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, maildir
		}
		if time.Now().After(deadline) {
			t.Fatalf("aiosmtpd does not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sink records the bodies POSTed to it, by path.
type sink struct {
	mu     sync.Mutex
	bodies map[string][]string
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	s.bodies[r.URL.Path] = append(s.bodies[r.URL.Path], string(b))
	s.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

func (s *sink) got(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies[path]...)
}

// shippedAlertmanagerConfig is configs/alertmanager/alertmanager.yml with
// this test's addresses: the smarthost (plain SMTP on loopback, no AUTH),
// the pager bridge, the Slack URL, the chat receiver routed (as its
// comment says to), and group_interval 5s instead of 1m so the resolved
// mail comes within seconds. Everything else is as shipped, including the
// critical routes' group_wait. It copies the templates beside it, as they
// are installed.
func shippedAlertmanagerConfig(t *testing.T, smarthost, sinkURL string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "configs", "alertmanager")
	b, err := os.ReadFile(filepath.Join(src, "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	replace := func(re, with string) {
		t.Helper()
		r := regexp.MustCompile(re)
		if !r.MatchString(cfg) {
			t.Fatalf("the shipped alertmanager.yml no longer has %s: update this test", re)
		}
		cfg = r.ReplaceAllString(cfg, with)
	}
	replace(`(?m)^(\s+)smarthost: mail\.example\.com:587$`, "${1}smarthost: "+smarthost+"\n${1}require_tls: false")
	replace(`(?m)^\s+auth_(username|password_file): .*\n`, "")
	replace(`url: http://127\.0\.0\.1:9999/pager`, "url: "+sinkURL+"/pager")
	replace(`api_url_file: /etc/alertmanager/slack\.url`, "api_url: "+sinkURL+"/slack")
	replace(`group_interval: 1m\b`, "group_interval: 5s")
	replace(`(?m)^  routes:\n`, "  routes:\n    - receiver: chat\n      continue: true\n      routes: [{matchers: ['severity=\"critical\"'], group_wait: 10s, group_interval: 5s}]\n")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(src, "templates", "pbxwatch.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "pbxwatch.tmpl"), tmpl, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startShippedAlertmanager(t *testing.T, configFile string) string {
	t.Helper()
	am := testutil.Tool(t, "prometheus-alertmanager")
	if out, err := exec.Command(testutil.Tool(t, "amtool"), "check-config", configFile).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config of the rewritten shipped config: %v\n%s", err, out)
	}
	addr := agenttest.FreeAddr(t)
	cmd := exec.Command(am, "--config.file="+configFile, "--storage.path="+t.TempDir(),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=debug")
	var out safeBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", out.String())
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager not ready:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// receivedMail is one message of the Maildir: its file as stored and its
// decoded subject and parts.
type receivedMail struct {
	raw, subject, text, html string
}

// mails reads every message in maildir/new, oldest first.
func mails(t *testing.T, maildir string) []receivedMail {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(maildir, "new"))
	type file struct {
		at   time.Time
		name string
	}
	var files []file
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			files = append(files, file{info.ModTime(), e.Name()})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].at.Before(files[j].at) })
	var out []receivedMail
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(maildir, "new", f.name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, parseMail(t, raw))
	}
	return out
}

func parseMail(t *testing.T, raw []byte) receivedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, raw)
	}
	m := receivedMail{raw: string(raw)}
	if m.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("subject %q: %v", msg.Header.Get("Subject"), err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		t.Fatalf("want a multipart mail (text and HTML), got %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = p
		switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		case "base64":
			t.Fatalf("a base64 part: decode it too")
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			m.text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			m.html = string(b)
		}
	}
	return m
}

func TestNotificationMailEndToEnd(t *testing.T) {
	testutil.Slow(t, "real Alertmanager, SMTP server and Chromium")
	t.Parallel()
	// The simulator: the check's URL /whmcs/ is scenario invalid_ip while
	// broken, ok when fixed.
	var broken atomic.Bool
	sim := whmcssim.New(whmcssim.Options{Secret: mailSecret})
	simSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scenario := "/ok"
		if broken.Load() {
			scenario = "/invalid_ip"
		}
		r.URL.Path = scenario + strings.TrimPrefix(r.URL.Path, "/whmcs")
		sim.ServeHTTP(w, r)
	}))
	defer simSrv.Close()

	smarthost, maildir := smtpServer(t)
	hooks := &sink{bodies: map[string][]string{}}
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()
	amURL := startShippedAlertmanager(t, shippedAlertmanagerConfig(t, smarthost, hookSrv.URL))

	e := newEnv(t)
	e.LinkPlugin("whmcs", sdktest.Build(t, "github.com/pbxwatch/pbxwatch/plugins/whmcs"))
	creds := t.TempDir()
	for name, value := range map[string]string{"id": whmcssim.DefaultIdentifier, "secret": mailSecret} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.WriteConfig(fmt.Sprintf(`alerting:
  alertmanagers: [{url: %q}]
  external_labels: {instance: pbx1.example.com}
checks:
  - name: whmcs_auth
    plugin: whmcs
    schedule: "@every 1s"
    timeout: 10s
    config:
      url: %s/whmcs/
      identifier_file: %s
      secret_file: %s
`, amURL, simSrv.URL, filepath.Join(creds, "id"), filepath.Join(creds, "secret")))
	d := e.start("--web.external-url=https://pbx1.example.com:9851/")
	d.WaitFor("whmcs_auth OK", func() bool { return d.Metric(`pbxwatch_check_status{check="whmcs_auth",plugin="whmcs"}`) == 0 })

	// The cause appears; the mail follows.
	broken.Store(true)
	causeAt := time.Now()
	var got []receivedMail
	waitUntil(t, 60*time.Second, "the firing mail", func() bool { got = mails(t, maildir); return len(got) > 0 })
	took := time.Since(causeAt)
	t.Logf("cause to mail in the Maildir: %s (check every 1s, shipped critical group_wait 10s)", took.Round(10*time.Millisecond))
	writeArtifact(t, "notification-latency.txt", fmt.Sprintf("cause to mail: %s\n", took.Round(10*time.Millisecond)))
	firing := got[0]
	if !strings.Contains(firing.subject, "[FIRING:1]") || !strings.Contains(firing.subject, "whmcs.invalid_ip") || !strings.Contains(firing.subject, "pbx1.example.com") {
		t.Errorf("subject %q does not name the host and the cause", firing.subject)
	}
	for part, body := range map[string]string{"text": firing.text, "HTML": html.UnescapeString(firing.html)} {
		for _, want := range []string{"127.0.0.1", "Invalid IP 127.0.0.1", "1. ", "2. ", "whmcs_auth", "pbx1.example.com",
			"https://pbx1.example.com:9851/checks/whmcs_auth", "docs/diagnoses.md#whmcs.invalid_ip", "Since "} {
			if !strings.Contains(body, want) {
				t.Errorf("the %s body lacks %q:\n%s", part, want, body)
			}
		}
	}
	writeArtifact(t, "notification-mail.eml", firing.raw)
	htmlFile := writeArtifact(t, "notification-mail.html", firing.html)

	// Slack gets the same content.
	waitUntil(t, 30*time.Second, "the Slack message", func() bool { return len(hooks.got("/slack")) > 0 })
	var slack struct {
		Attachments []struct{ Title, Text string } `json:"attachments"`
	}
	slackBody := hooks.got("/slack")[0]
	if err := json.Unmarshal([]byte(slackBody), &slack); err != nil || len(slack.Attachments) != 1 {
		t.Fatalf("Slack payload %v: %s", err, slackBody)
	}
	att := slack.Attachments[0]
	if !strings.Contains(att.Title, "whmcs.invalid_ip") || !strings.Contains(att.Title, "pbx1.example.com") {
		t.Errorf("Slack title %q", att.Title)
	}
	for _, want := range []string{"Invalid IP 127.0.0.1", "*To fix:*", "1. ", "2. ", "|Check page>", "|Runbook>"} {
		if !strings.Contains(att.Text, want) {
			t.Errorf("Slack text lacks %q:\n%s", want, att.Text)
		}
	}

	// The mail as a person sees it.
	ctx := browser(t)
	var shown string
	var links int
	if err := run(ctx,
		chromedp.EmulateViewport(760, 900),
		chromedp.Navigate("file://"+htmlFile),
		chromedp.WaitVisible("body", chromedp.ByQuery),
		chromedp.Evaluate(`document.body.innerText`, &shown),
		chromedp.Evaluate(`document.querySelectorAll("a[href^='https://']").length`, &links),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "notification-mail.png")
	for _, want := range []string{"[FIRING:1] whmcs.invalid_ip on pbx1.example.com", "To fix", "Evidence", "1. ", "Invalid IP 127.0.0.1"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the rendered mail lacks %q:\n%s", want, shown)
		}
	}
	if links != 2 {
		t.Errorf("the rendered mail has %d https links, want 2 (check page, runbook)", links)
	}

	// Fixed: a resolved mail.
	broken.Store(false)
	waitUntil(t, 60*time.Second, "the resolved mail", func() bool { got = mails(t, maildir); return len(got) >= 2 })
	resolved := got[len(got)-1]
	if !strings.HasPrefix(resolved.subject, "[RESOLVED:1] whmcs.invalid_ip on pbx1.example.com") {
		t.Errorf("resolved subject %q", resolved.subject)
	}
	if !strings.Contains(resolved.text, "RESOLVED: 1") || strings.Contains(resolved.text, "FIRING:") {
		t.Errorf("resolved text body:\n%s", resolved.text)
	}

	// No secret anywhere, in any form.
	var everything []string
	for _, m := range got {
		everything = append(everything, m.raw, m.subject, m.text, m.html)
	}
	everything = append(everything, hooks.got("/slack")...)
	everything = append(everything, hooks.got("/pager")...)
	for _, s := range everything {
		for _, form := range secretForms(mailSecret) {
			if strings.Contains(s, form) {
				t.Errorf("the secret (as %q) is in a notification", form)
			}
		}
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeArtifact saves a test output beside the screenshots and returns its
// path.
func writeArtifact(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(artifacts(t), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
