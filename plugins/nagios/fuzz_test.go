package nagios

import (
	"context"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// FuzzConfig: any `config:` block is accepted or refused with an error,
// never a panic (Configure only validates: nothing is run).
func FuzzConfig(f *testing.F) {
	f.Add("command: [/usr/lib/nagios/plugins/check_dummy, \"0\", ok]\n")
	f.Add("command: \"exit 2\"\nshell: true\nsecret_env: {TOKEN: x}\n")
	f.Add("command: []\nshell: yes\ntimeout: -1\n")
	f.Fuzz(func(t *testing.T, block string) {
		lines := map[int]int{}
		for i := 1; i <= strings.Count(block, "\n")+1; i++ {
			lines[i] = i
		}
		c := &checker{}
		_ = c.Configure(context.Background(), sdk.NewConfig("nagios_fuzz", t.TempDir(), "pbxwatch.yaml", []byte(block), lines))
	})
}
