package logtail

import (
	"testing"
	"unicode/utf8"
)

// FuzzConfig: any `config:` block gives a checker or errors, never a panic.
func FuzzConfig(f *testing.F) {
	f.Add("path: /var/log/asterisk/freepbx.log\nstart_at: beginning\n")
	f.Add("patterns:\n  - {name: x, regex: '(', severity: fatal}\nmax_line_bytes: -1\n")
	f.Add("format: plain\nfollow_symlinks: 3\npatterns: []\n")
	f.Fuzz(func(t *testing.T, block string) {
		_, _ = newChecker(t, block, t.TempDir())
	})
}

// FuzzRedact: any log line leaves the plugin as valid UTF-8 within the
// sample bound, never a panic.
func FuzzRedact(f *testing.F) {
	f.Add([]byte("POST client_secret=ab&cd&scope=gql Authorization: Bearer x!y"))
	f.Add([]byte("password%3Dp%40ss \xe9\x00\xff"))
	f.Fuzz(func(t *testing.T, line []byte) {
		out := redact(line)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out: %q", out)
		}
		if len(out) > 4*maxSampleBytes+64 {
			t.Fatalf("%d bytes out", len(out))
		}
	})
}
