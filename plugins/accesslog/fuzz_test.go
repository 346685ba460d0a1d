package accesslog

import "testing"

// FuzzConfig: any `config:` block gives a checker or errors naming the
// problem, never a panic.
func FuzzConfig(f *testing.F) {
	f.Add("path: /var/log/apache2/access.log\nformat: combined\n")
	f.Add("format: vhost_combined\nmax_clients: -1\ntoken_failures: {threshold: 0, window: 1ns}\n")
	f.Add("path: [a, b]\nformat: ~\nstart_at: middle\n")
	f.Fuzz(func(t *testing.T, block string) {
		_, _ = newChecker(t, block, t.TempDir(), nil)
	})
}
