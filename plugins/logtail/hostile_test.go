package logtail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// A FIFO at the log path used to block every run until the plugin was
// killed: now the run returns at once, saying what is there.
func TestFIFOIsRefusedWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustChecker(t, "path: "+path+"\n", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	res, err := c.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(began) > 2*time.Second {
		t.Fatalf("took %s", time.Since(began))
	}
	d := sdktest.Diagnosis(res, "logtail.not_a_regular_file")
	if d == nil || res.Status != sdk.StatusCritical || d.Details["found"] != "a named pipe (FIFO)" {
		t.Fatalf("%s %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if d := sdktest.Diagnosis(runCheck(t, c), "logtail.not_a_regular_file"); d == nil || d.Details["found"] != "a directory" {
		t.Fatalf("directory: %+v", d)
	}
}

func TestSymlinkOutOfTheLogDirectoryIsRefusedUnlessConfigured(t *testing.T) {
	logDir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "shadow")
	appendRaw(t, target, "[2024-05-01 10:00:00] [freepbx.ERROR]: root:$6$secret-hash:19000 [] []\n")
	path := filepath.Join(logDir, "freepbx.log")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	res := runCheck(t, mustChecker(t, "path: "+path+"\nstart_at: beginning\n", t.TempDir()))
	d := sdktest.Diagnosis(res, "logtail.symlink_refused")
	if d == nil || !strings.Contains(d.Message, target) || strings.Contains(fmt.Sprint(res), "secret-hash") {
		t.Fatalf("%q %+v", res.Summary, res.Diagnoses)
	}
	res = runCheck(t, mustChecker(t, "path: "+path+"\nstart_at: beginning\nfollow_symlinks: true\n", t.TempDir()))
	if sdktest.Diagnosis(res, "logtail.symlink_refused") != nil {
		t.Fatalf("follow_symlinks: true still refused: %+v", res.Diagnoses)
	}
	if v, _ := sdktest.Metric(res, "logtail_lines_total", map[string]string{"level": "error"}); v != 1 {
		t.Fatalf("followed link not read: %v", res.Metrics)
	}
	// A link within the directory (logrotate-style "current" links) is fine.
	inDir := filepath.Join(logDir, "real.log")
	appendLines(t, inDir, 1, 3)
	link := filepath.Join(logDir, "current.log")
	if err := os.Symlink("real.log", link); err != nil {
		t.Fatal(err)
	}
	res = runCheck(t, mustChecker(t, "path: "+link+"\nstart_at: beginning\n", t.TempDir()))
	if len(res.Diagnoses) != 0 && sdktest.Diagnosis(res, "logtail.symlink_refused") != nil {
		t.Fatalf("in-directory link refused: %+v", res.Diagnoses)
	}
}

// Latin-1 and binary log lines reach the agent through the real plugin as
// matched-line diagnoses and events, valid UTF-8 with the bytes shown.
func TestLatin1AndBinaryLinesThroughThePlugin(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freepbx.log")
	appendRaw(t, path, "[2024-05-01 10:00:00] [freepbx.ERROR]: Acc\xe8s refus\xe9 SQLSTATE[HY000] \x00\xff\xfe [] []\n"+
		"[2024-05-01 10:00:01] [freepbx.ERROR]: SQLSTATE[42S02] "+strings.Repeat("\xc3\x28\x80", 100000)+"\n")
	p, err := sdktest.Start(t, sdktest.Build(t, pluginPkg), sdktest.Options{Config: "path: " + path + "\nstart_at: beginning\n"})
	if err != nil {
		t.Fatal(err)
	}
	res := p.Check(context.Background())
	d := sdktest.Diagnosis(res, "logtail.pattern_matched")
	if d == nil {
		t.Fatalf("%s %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if len(res.Events) != 2 || !strings.Contains(res.Events[0].Message, `Acc\xE8s refus\xE9`) {
		t.Fatalf("events %+v", res.Events)
	}
	for _, s := range []string{res.Summary, d.Message, d.Details["sample"], res.Events[0].Message, res.Events[1].Message} {
		if !utf8.ValidString(s) || len(s) > bounds.Message {
			t.Errorf("%d bytes, valid %v: %.80q", len(s), utf8.ValidString(s), s)
		}
	}
}
