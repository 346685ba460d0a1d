package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/hostile"
)

// A few hundred bytes of nested aliases used to expand into a check's
// block for minutes and tens of GB. Every bomb is now refused before
// anything expands it, as a problem of the file (a reload keeps the running
// config), naming the alias's line.
func TestFaultAliasBombsAreRefusedNamingTheLine(t *testing.T) {
	for _, bomb := range hostile.AliasBombs() {
		t.Run(bomb.Name, func(t *testing.T) {
			src := bomb.Config + "agent:\n  plugin_dir: /nonexistent\n"
			cfg, err := ParseLenient("bomb.yml", []byte(src))
			if cfg != nil || err == nil {
				t.Fatalf("bomb accepted (err %v)", err)
			}
			want := fmt.Sprintf("bomb.yml:%d: alias *", bomb.Line)
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "once aliases are resolved") {
				t.Fatalf("err = %v, want it to start %q", err, want)
			}
		})
	}
}

// Anchors shared by many checks stay allowed: 2,000 checks each merging
// a 40-value anchor are 80,000 values in all.
func TestManyChecksSharingAnAnchorAreNotABomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("checks:\n  - name: c0\n    plugin: x\n    config: &common\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "      key%d: value%d\n", i, i)
	}
	for i := 1; i < 2000; i++ {
		fmt.Fprintf(&b, "  - name: c%d\n    plugin: x\n    config:\n      <<: *common\n      extra: %d\n", i, i)
	}
	cfg, err := ParseLenient("many.yml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg.Checks[1999].ConfigYAML), "key39: value39") {
		t.Fatalf("merged block:\n%s", cfg.Checks[1999].ConfigYAML)
	}
}
