package main_test

import (
	"os/exec"
	"strings"
	"testing"
)

// sqlDrivers are import paths of database/sql drivers, by fragment.
var sqlDrivers = []string{"go-sql-driver/mysql", "lib/pq", "jackc/pgx", "mattn/go-sqlite3", "modernc.org/sqlite", "go-mssqldb"}

// The agent binary links no SQL driver: `pbxwatch init` has the freepbx
// plugin read FreePBX's database (docs/design.md, "Where init's FreePBX
// look-up runs"), so the daemon carries no driver for a one-off command.
func TestAgentLinksNoSQLDriver(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", agentPkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", agentPkg, err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %q: not the agent's dependencies", deps)
	}
	for _, dep := range deps {
		for _, driver := range sqlDrivers {
			if strings.Contains(dep, driver) || (strings.Contains(strings.ToLower(dep), "sql") && !strings.HasPrefix(dep, "github.com/pbxwatch/")) {
				t.Errorf("the agent links %s, a SQL driver (matched %q)", dep, driver)
			}
		}
	}
}
