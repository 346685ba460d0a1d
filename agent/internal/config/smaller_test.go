package config

import (
	"strings"
	"testing"
)

// Issue 23, item 8: a key given twice inside a check printed false errors
// ("check #1 has no name", `check "": no plugin`); a schedule that never
// fires was called "runs every 0s".
func TestFaultDuplicateKeyAndNeverFiringSchedule(t *testing.T) {
	cfg, err := ParseLenient("p.yml", []byte(`checks:
  - name: a
    plugin: x
    plugin: y
  - name: b
    plugin: x
    schedule: "* * 31 2 *"
`))
	if err != nil {
		t.Fatalf("file error: %v", err)
	}
	a, b := cfg.Checks[0], cfg.Checks[1]
	if a.Name != "a" || a.Invalid == nil || !strings.Contains(a.Invalid.Error(), `p.yml:4: mapping key "plugin" already defined at line 3`) {
		t.Fatalf("a: %q %v", a.Name, a.Invalid)
	}
	if strings.Contains(a.Invalid.Error(), "no plugin") || strings.Contains(a.Invalid.Error(), "no name") {
		t.Fatalf("a has false errors: %v", a.Invalid)
	}
	if b.Invalid == nil || !strings.Contains(b.Invalid.Error(), `p.yml:7: check "b": schedule "* * 31 2 *": never fires`) || strings.Contains(b.Invalid.Error(), "every 0s") {
		t.Fatalf("b: %v", b.Invalid)
	}
}
