package config

import (
	"strings"
	"testing"
)

// FuzzParse: any bytes as the agent's config file give a config or an
// error naming the file, never a panic or a hang.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"agent: {state_dir: /tmp/x}\nchecks:\n  - {name: a, plugin: x, config: {k: v}}\n",
		"checks:\n  - name: a\n    plugin: x\n    config: &c {url: 'http://u:p@h/'}\n  - name: b\n    plugin: x\n    config: *c\n",
		"alerting:\n  alertmanagers: [{url: 'http://h:9093'}]\n",
		"checks: [{name: a, config: {s: '${NOPE}'}}]",
		"a: &a [*a]",
		"\xff\xfe",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse("fuzz.yml", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without an error")
		}
	})
}
