package sdk

import (
	"fmt"
	"strings"
	"testing"
)

// A plugin handed a block with an alias bomb (by a host other than the
// agent, which resolves and bounds aliases itself) refuses it at its line
// instead of letting the decoder expand it.
func TestFaultDecodeRefusesAnAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("dir: /tmp\nl0: &l0 [a,a,a,a,a,a,a,a,a]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ","))
	}
	lines := map[int]int{}
	for i := 1; i <= 10; i++ {
		lines[i] = 40 + i
	}
	cfg := NewConfig("c", "", "/etc/pbxwatch.yml", []byte(b.String()), lines)
	var v struct {
		Dir string         `yaml:"dir"`
		L   map[string]any `yaml:",inline"`
	}
	err := cfg.Decode(&v)
	// l5's list of *l4 is line 7 of the block, 47 of the file.
	if err == nil || !strings.HasPrefix(err.Error(), "/etc/pbxwatch.yml:47: alias *l4 ") {
		t.Fatalf("err = %v", err)
	}
}
