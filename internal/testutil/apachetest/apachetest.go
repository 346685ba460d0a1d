// Package apachetest runs a real Apache httpd (Debian's apache2) for tests:
// its own minimal config, a loopback port, a log directory of its own, and
// the FreePBX API paths answering any status the test asks for with
// ?status=NNN. It is test support: production code never imports it.
package apachetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/testutil"
)

// Statuses are the codes ?status= can ask for; any other request to
// /admin/ or /ucp/ is answered 200.
var Statuses = []int{400, 401, 403, 404, 500, 503}

// Server is a running Apache.
type Server struct {
	t         testing.TB
	bin       string
	Dir       string // ServerRoot: httpd.conf, httpd.pid, error.log
	LogDir    string // where AccessLog is written
	AccessLog string // combined format
	Port      int
	IPv6      bool // also listening on [::1]
	conf      string
	pidFile   string
	requests  int // made through Do, each one access-log line
}

// Binary returns the apache2 binary; a missing one follows the
// missing-tool rule (testutil.Unavailable). A real server: -short skips
// the test.
func Binary(t testing.TB) string {
	t.Helper()
	testutil.Slow(t, "real Apache")
	if _, err := os.Stat("/usr/sbin/httpd"); err == nil {
		return "/usr/sbin/httpd"
	}
	return testutil.Tool(t, "apache2")
}

// Start starts Apache and stops it when the test ends. Its directories
// are made with os.MkdirTemp, not t.TempDir(), because the worker
// processes run as www-data (Apache refuses to serve as root), and
// t.TempDir()'s parent is private to its owner.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	dir, err := os.MkdirTemp("", "apachetest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{t: t, bin: bin, Dir: dir, LogDir: filepath.Join(dir, "log"), conf: filepath.Join(dir, "httpd.conf"), pidFile: filepath.Join(dir, "httpd.pid")}
	s.AccessLog = filepath.Join(s.LogDir, "access.log")
	www := filepath.Join(dir, "www")
	for _, d := range []string{s.LogDir, www} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(www, "ok.txt"), []byte("{\"status\":true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	for attempt := 0; ; attempt++ {
		s.Port, s.IPv6 = freePort(t)
		if err := os.WriteFile(s.conf, []byte(s.config()), 0o644); err != nil {
			t.Fatal(err)
		}
		err := s.start()
		if err == nil {
			break
		}
		if attempt == 4 {
			t.Fatalf("apache2 did not start: %v\n%s", err, s.ErrorLog())
		}
	}
	t.Cleanup(s.Stop)
	return s
}

// freePort finds a port free on 127.0.0.1 (and on ::1 when the host has
// IPv6 loopback); another process may take it before Apache does, which
// Start survives by trying again.
func freePort(t testing.TB) (int, bool) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	l6, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", port))
	if err != nil {
		return port, false
	}
	l6.Close()
	return port, true
}

func (s *Server) config() string {
	mods := "/usr/lib/apache2/modules"
	if _, err := os.Stat(mods); err != nil {
		mods = "/usr/lib64/httpd/modules"
	}
	listen := fmt.Sprintf("Listen 127.0.0.1:%d\n", s.Port)
	if s.IPv6 {
		listen += fmt.Sprintf("Listen [::1]:%d\n", s.Port)
	}
	user := ""
	if os.Getuid() == 0 {
		user = "User www-data\nGroup www-data\n"
		if _, err := exec.LookPath("id"); err == nil {
			if exec.Command("id", "www-data").Run() != nil {
				user = "User nobody\nGroup nogroup\n"
			}
		}
	}
	var rules strings.Builder
	for _, st := range Statuses {
		fmt.Fprintf(&rules, "RewriteCond %%{QUERY_STRING} (^|&)status=%d(&|$)\nRewriteRule ^ - [R=%d,L]\n", st, st)
	}
	return fmt.Sprintf(`# apachetest: a minimal Apache serving FreePBX's API paths.
ServerRoot %[1]s
%[2]sServerName localhost
LoadModule mpm_event_module %[3]s/mod_mpm_event.so
LoadModule authz_core_module %[3]s/mod_authz_core.so
LoadModule rewrite_module %[3]s/mod_rewrite.so
%[4]sPidFile %[1]s/httpd.pid
ErrorLog %[1]s/error.log
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%O \"%%{Referer}i\" \"%%{User-Agent}i\"" combined
CustomLog %[5]s combined
DocumentRoot %[1]s/www
<Directory />
  Require all granted
</Directory>
RewriteEngine On
# ?status=NNN answers NNN, as FreePBX's API answers 401/403/500.
%[6]s# Every other FreePBX path (token, gql, rest, ajax.php, ucp) answers 200.
RewriteRule ^/(admin|ucp)/ /ok.txt [L]
`, s.Dir, listen, mods, user, s.AccessLog, rules.String())
}

func (s *Server) start() error {
	out, err := exec.Command(s.bin, "-f", s.conf, "-k", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if s.pid() == 0 && time.Since(deadline.Add(-10*time.Second)) > 2*time.Second {
			return fmt.Errorf("not running")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("not listening on port %d", s.Port)
}

func (s *Server) pid() int {
	b, err := os.ReadFile(s.pidFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(string(bytes.TrimSpace(b)))
	return pid
}

// PIDFile is where Apache writes its main process id (for a logrotate
// postrotate script).
func (s *Server) PIDFile() string { return s.pidFile }

// ErrorLog returns Apache's error log, for failure messages.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	return string(b)
}

// Stop stops Apache and waits for it to exit.
func (s *Server) Stop() {
	pid := s.pid()
	if pid == 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil {
		time.Sleep(20 * time.Millisecond)
	}
	os.Remove(s.pidFile)
}

// Client returns an HTTP client whose connections come from the loopback
// address from (127.0.0.2, ::1, ...), so the access log shows several
// clients. Keep-alive is off: each request is its own connection.
func (s *Server) Client(from string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}}
}

// URL is the base URL for a client at from (an IPv6 client talks to ::1).
func (s *Server) URL(from string) string {
	if strings.Contains(from, ":") {
		return fmt.Sprintf("http://[::1]:%d", s.Port)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", s.Port)
}

// Do makes a request from client address from to path (status 0: the
// path's 200) and fails the test unless Apache answers status.
func (s *Server) Do(from, method, path string, status int) {
	s.t.Helper()
	url := s.URL(from) + path
	if status != 0 && status != 200 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		url += sep + "status=" + strconv.Itoa(status)
	} else {
		status = 200
	}
	req, err := http.NewRequest(method, url, strings.NewReader("grant_type=client_credentials&client_id=x"))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Client(from).Do(req)
	if err != nil {
		s.t.Fatalf("%s %s from %s: %v", method, url, from, err)
	}
	resp.Body.Close()
	s.requests++
	if resp.StatusCode != status {
		s.t.Fatalf("%s %s from %s: %d, want %d", method, url, from, resp.StatusCode, status)
	}
}

// Requests is how many requests Do made.
func (s *Server) Requests() int { return s.requests }

// Settle waits until every request made through Do is in the access log
// (current and rotated files, .gz included): Apache writes a request's
// line after sending the answer, so a client can be faster than the log.
func (s *Server) Settle() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := s.loggedLines()
		if n == s.requests {
			return
		}
		if n > s.requests || time.Now().After(deadline) {
			s.t.Fatalf("%d lines in %s*, %d requests made", n, s.AccessLog, s.requests)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) loggedLines() int {
	files, _ := filepath.Glob(s.AccessLog + "*")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if strings.HasSuffix(f, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				continue
			}
			if b, err = io.ReadAll(zr); err != nil {
				continue
			}
		}
		n += bytes.Count(b, []byte("\n"))
	}
	return n
}

// Generation counts the times Apache (re)started: "resuming normal
// operations" lines in its error log.
func (s *Server) Generation() int { return strings.Count(s.ErrorLog(), "resuming normal operations") }

// WaitReloaded waits until Apache restarted gracefully since it was at
// generation before, so requests from now on are logged to the file now at
// AccessLog.
func (s *Server) WaitReloaded(before int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Generation() == before {
		if time.Now().After(deadline) {
			s.t.Fatalf("apache did not restart gracefully:\n%s", s.ErrorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Graceful makes Apache reopen its logs as `apachectl graceful` (and
// Debian's logrotate postrotate, `invoke-rc.d apache2 reload`) does, by
// SIGUSR1, and waits until it has.
func (s *Server) Graceful() {
	s.t.Helper()
	before := s.Generation()
	pid := s.pid()
	if pid == 0 {
		s.t.Fatal("apache not running")
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		s.t.Fatal(err)
	}
	s.WaitReloaded(before)
}
