package buildversion

import (
	"runtime"
	"strings"
	"testing"
)

// Print keeps prometheus/common/version.Print's layout, one field a line,
// none empty.
func TestPrintLaysOutEveryField(t *testing.T) {
	got := Print("pbxwatch-plugin-demo")
	want := []string{
		"pbxwatch-plugin-demo, version " + Version + " (branch: " + Branch + ", revision: " + Revision + ")",
		"  build user:       " + BuildUser,
		"  build date:       " + BuildDate,
		"  go version:       " + runtime.Version(),
		"  platform:         " + runtime.GOOS + "/" + runtime.GOARCH,
	}
	if got != strings.Join(want, "\n") {
		t.Errorf("Print =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	for _, field := range []string{Version, Branch, Revision, BuildUser, BuildDate} {
		if field == "" {
			t.Errorf("a field is empty: %q", got)
		}
	}
}
