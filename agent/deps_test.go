package main_test

import (
	"os/exec"
	"strings"
	"testing"
)

// sqlDrivers are import paths of database/sql drivers, by fragment.
var sqlDrivers = []string{"go-sql-driver/mysql", "lib/pq", "jackc/pgx", "mattn/go-sqlite3", "modernc.org/sqlite", "go-mssqldb"}

// bundledPrefix is where the plugins live that pbxwatch's multi-call binary
// serves in processes of their own (bundled.go).
const bundledPrefix = "github.com/pbxwatch/pbxwatch/plugins/"

// The agent's own code links no SQL driver: `pbxwatch init` has the freepbx
// plugin read FreePBX's database (docs/design.md, "Where init's FreePBX
// look-up runs"), so the daemon carries no driver for a one-off command.
// The binary holds the driver only through the bundled freepbx plugin,
// which needs it for its server-side look-up and runs in a process of its
// own (docs/design.md, "One binary for the agent and the bundled plugins").
func TestAgentLinksNoSQLDriver(t *testing.T) {
	var daemon []string
	for _, imp := range goList(t, "{{join .Imports \"\\n\"}}", agentPkg) {
		if !strings.HasPrefix(imp, bundledPrefix) {
			daemon = append(daemon, imp)
		}
	}
	deps := goList(t, "{{if not .Standard}}{{.ImportPath}}{{end}}", append([]string{"-deps"}, daemon...)...)
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %q: not the agent's dependencies", deps)
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, bundledPrefix) {
			t.Errorf("the agent's own code imports the bundled plugin %s: plugins run in processes of their own", dep)
		}
		for _, driver := range sqlDrivers {
			if strings.Contains(dep, driver) || (strings.Contains(strings.ToLower(dep), "sql") && !strings.HasPrefix(dep, "github.com/pbxwatch/")) {
				t.Errorf("the agent links %s, a SQL driver (matched %q)", dep, driver)
			}
		}
	}
	// Guard the guard: the driver does reach the binary, through freepbx,
	// so the listing above is the one that decides.
	all := strings.Join(goList(t, "{{.ImportPath}}", "-deps", bundledPrefix+"freepbx"), "\n")
	if !strings.Contains(all, "go-sql-driver/mysql") {
		t.Error("the freepbx plugin no longer links go-sql-driver/mysql: the exclusion above is stale")
	}
}

func goList(t *testing.T, format string, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-f", format}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, out)
	}
	return strings.Fields(string(out))
}
