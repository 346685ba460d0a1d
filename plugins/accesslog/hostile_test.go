package accesslog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// A FIFO or a directory at the access log's path is named, as logtail
// names it, instead of a generic pbxwatch.check_error (issue 23 item 8).
func TestFIFOAndDirectoryAreNamed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustChecker(t, "path: "+path+"\n", t.TempDir(), &clock{time.Now()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Check(ctx)
	if err != nil {
		t.Fatalf("FIFO is a run error, not a diagnosis: %v", err)
	}
	d := sdktest.Diagnoses(res, "accesslog.not_a_regular_file")
	if len(d) != 1 || res.Status != sdk.StatusCritical || d[0].Details["found"] != "a named pipe (FIFO)" {
		t.Fatalf("%s %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if !strings.Contains(d[0].Remediation[0], "/var/log/apache2/access.log") {
		t.Errorf("remedy does not say where the access log is: %q", d[0].Remediation)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if d := sdktest.Diagnoses(runCheck(t, c), "accesslog.not_a_regular_file"); len(d) != 1 || d[0].Details["found"] != "a directory" {
		t.Fatalf("directory: %+v", d)
	}
}

// A negative offset in the position file was "seek: invalid argument" on
// every run; it is a damaged state, said once with the fix.
func TestNegativeOffsetIsStateCorrupt(t *testing.T) {
	c, w, _ := setup(t, "")
	w.req("127.0.0.2", "GET", "/admin/api/api/gql", 200, 3)
	runCheck(t, c)
	file := c.log.StateFile()
	corruptOffset(t, file)
	c2 := mustChecker(t, "path: "+w.path+"\nstart_at: beginning\n", filepath.Dir(file), &clock{time.Now()})
	res := runCheck(t, c2)
	d := sdktest.Diagnoses(res, "accesslog.state_corrupt")
	if len(d) != 1 || res.Status != sdk.StatusCritical || !strings.Contains(d[0].Message, "offset -5 is negative") {
		t.Fatalf("%s %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if !strings.Contains(d[0].Remediation[0], "delete it") {
		t.Errorf("no fix: %q", d[0].Remediation)
	}
}

// corruptOffset rewrites the saved offset as -5.
func corruptOffset(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"offset":`)
	j := strings.IndexByte(string(b[i:]), ',')
	if i < 0 || j < 0 {
		t.Fatalf("no offset in %s", b)
	}
	b = append(append(append([]byte{}, b[:i]...), `"offset":-5`...), b[i+j:]...)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
