package freepbx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb/facts"
)

// `detect` as pbxwatch init runs it; the database side is tested in
// internal/freepbxdb (TestDetect*) and through init in agent/init_e2e_test.go.
func TestDetectModePrintsFactsAsJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runDetect([]string{"--root=" + t.TempDir()}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var f facts.Facts
	if err := json.Unmarshal(stdout.Bytes(), &f); err != nil || !f.ConfMissing || !strings.Contains(f.ConfError, "freepbx.conf") {
		t.Errorf("facts %+v (%v):\n%s", f, err, stdout.String())
	}
}

func TestDetectModeUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--nosuch"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if code := runDetect(args, &stdout, &stderr); code != 2 || stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("detect %q: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}
