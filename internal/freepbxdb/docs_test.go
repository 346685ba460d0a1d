package freepbxdb

import (
	"os"
	"strings"
	"testing"
)

// TestDocsGrantStatement keeps docs/freepbx.md's GRANTs equal to what the
// code reads (and what the tests grant).
func TestDocsGrantStatement(t *testing.T) {
	doc, err := os.ReadFile("../../docs/freepbx.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range strings.SplitAfter(GrantStatement("asterisk", "pbxwatch", "localhost"), "; ") {
		if st = strings.TrimSpace(st); !strings.Contains(string(doc), "\n"+st+"\n") {
			t.Errorf("docs/freepbx.md lacks %s", st)
		}
	}
}
