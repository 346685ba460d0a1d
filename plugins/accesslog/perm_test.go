package accesslog

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// TestPermissionDeniedThenACLScript: the plugin, running as another user
// (nobody), cannot read an access log in a root-only 0700 directory, as
// /var/log/httpd is on Sangoma Linux 7, and says so with the group and
// ACL remedies. After scripts/accesslog-acl.sh it reads the log, and also
// a file created in the directory afterwards (as logrotate's create does),
// through the default ACL. The plugin runs in a child process, this test
// binary, as user nobody.
func TestPermissionDeniedThenACLScript(t *testing.T) {
	if p := os.Getenv("ACCESSLOG_PERM_HELPER"); p != "" {
		c := mustChecker(t, "path: "+p+"\nstart_at: beginning\n", os.Getenv("ACCESSLOG_PERM_STATE"), nil)
		json.NewEncoder(os.Stdout).Encode(runCheck(t, c))
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root: the plugin must run as another user than the log's owner")
	}
	// Not t.TempDir(): its parent is private to root.
	top, err := os.MkdirTemp("", "accesslog-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	os.Chmod(top, 0o755)
	logDir := filepath.Join(top, "httpd")
	os.Mkdir(logDir, 0o700)
	path := filepath.Join(logDir, "access_log")
	line := `192.0.2.10 - - [29/Nov/2026:22:01:05 +0000] "POST /admin/api/api/token HTTP/1.1" 200 120 "-" "glue"` + "\n"
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(top, "accesslog.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(top, "state")
	os.Mkdir(stateDir, 0o700)
	os.Chown(stateDir, 65534, 65534)
	asNobody := func() *sdk.Result {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^TestPermissionDeniedThenACLScript$")
		cmd.Dir = top
		cmd.Env = append(os.Environ(), "ACCESSLOG_PERM_HELPER="+path, "ACCESSLOG_PERM_STATE="+stateDir, "HOME="+top, "TMPDIR="+top)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stderr strings.Builder
		cmd.Stderr = &stderr // the plugin's log, JSON too
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper: %v\n%s%s", err, out, stderr.String())
		}
		s := string(out)
		var res sdk.Result
		if i := strings.Index(s, "{"); i < 0 || json.NewDecoder(strings.NewReader(s[i:])).Decode(&res) != nil {
			t.Fatalf("helper output:\n%s", out)
		}
		return &res
	}

	res := asNobody()
	ds := sdktest.Diagnoses(res, "accesslog.permission_denied")
	if res.Status != sdk.StatusCritical || len(ds) != 1 {
		t.Fatalf("status %v diagnoses %+v", res.Status, res.Diagnoses)
	}
	rem := strings.Join(ds[0].Remediation, "\n")
	for _, want := range []string{"usermod -aG adm nobody", "setfacl -m u:nobody:rx /", "setfacl -d -m u:nobody:r", "accesslog-acl.sh"} {
		if !strings.Contains(rem, want) {
			t.Errorf("remediation lacks %q:\n%s", want, rem)
		}
	}
	if ds[0].Details["dir_mode"] != "-rwx------" || ds[0].Details["dir_owner"] != "root" || ds[0].Details["user"] != "nobody" {
		t.Errorf("details %v", ds[0].Details)
	}

	if out, err := exec.Command("../../scripts/accesslog-acl.sh", "nobody", logDir).CombinedOutput(); err != nil {
		t.Fatalf("accesslog-acl.sh: %v\n%s", err, out)
	}
	res = asNobody()
	if v, _ := sdktest.Metric(res, "accesslog_requests_total", map[string]string{"endpoint": "token", "status": "200"}); res.Status != sdk.StatusOK || v != 1 {
		t.Fatalf("after the ACL: %v %v %+v", res.Status, v, res.Diagnoses)
	}
	// logrotate's create: a new file (root, 0644) in place of the old.
	if err := os.Rename(path, path+"-20261130"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(line+line), 0o644); err != nil {
		t.Fatal(err)
	}
	res = asNobody()
	if v, _ := sdktest.Metric(res, "accesslog_requests_total", map[string]string{"endpoint": "token", "status": "200"}); res.Status != sdk.StatusOK || v != 3 {
		t.Fatalf("a file created after the ACL: %v %v %s %+v %+v", res.Status, v, res.Summary, res.Diagnoses, res.Metrics)
	}
	if out, err := exec.Command("../../scripts/accesslog-acl.sh", "--remove", "nobody", logDir).CombinedOutput(); err != nil {
		t.Fatalf("accesslog-acl.sh --remove: %v\n%s", err, out)
	}
	if res = asNobody(); len(sdktest.Diagnoses(res, "accesslog.permission_denied")) != 1 {
		t.Fatalf("after --remove: %v %+v", res.Status, res.Diagnoses)
	}
}
