// Package hostile holds the inputs of the fault suite (`make fault`): what
// a hostile user or network sends pbxwatch. Test support only.
package hostile

import (
	"fmt"
	"strings"
)

// AliasBomb is a config whose `checks:` hold a YAML alias bomb somewhere,
// and the line that must be named refusing it.
type AliasBomb struct {
	Name string
	// Config is the agent config but for its agent: block, which the
	// caller appends (state_dir, plugin_dir); its checks use the scripted
	// test plugin.
	Config string
	Line   int
}

// laughs is levels l0..l(n-1) of nine aliases each, every list nine of
// the previous: nine levels are 9^9 (387 million) values from about 450
// bytes. Level k is 1+9*size(k-1) nodes: 10, 91, 820, 7381, 66430, 597871...
func laughs(indent string, levels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sl0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n", indent)
	for i := 1; i < levels; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "%sl%d: &l%d [%s]\n", indent, i, i, strings.TrimSuffix(strings.Repeat(p+",", 9), ","))
	}
	return b.String()
}

// AliasBombs returns the bombs the suite throws at every YAML path: a
// check's block, a block merging (`<<:`) a bomb defined in another check,
// a long scalar repeated by aliases (bytes, not nodes), and a bomb outside
// the checks.
func AliasBombs() []AliasBomb {
	// l0 is at line 5; a block may expand to 100,000 values: levels 0..3
	// hold 8,302 with their keys, l5's list of *l4 (line 10) crosses it.
	nested := AliasBomb{Name: "nested lists in a check's block", Line: 10,
		Config: "checks:\n  - name: bomb\n    plugin: scripted\n    config:\n" + laughs("      ", 9)}

	// The anchors live in one check's block (levels 0..4, 74,733 values:
	// allowed), the explosion in another's merge key, at its second alias.
	merge := AliasBomb{Name: "merge key of another check's anchors", Line: 13,
		Config: "checks:\n  - name: defs\n    plugin: scripted\n    config:\n" + laughs("      ", 5) +
			"  - name: bomb\n    plugin: scripted\n    config:\n      <<: {a: *l4, b: *l4}\n"}

	// Bytes rather than values: 64 KiB repeated; s1 is 512 KiB, and s2's
	// list of *s1 passes 4 MiB (line 7).
	var b strings.Builder
	b.WriteString("checks:\n  - name: bomb\n    plugin: scripted\n    config:\n")
	fmt.Fprintf(&b, "      s0: &s0 %q\n", strings.Repeat("x", 64<<10))
	for i := 1; i < 4; i++ {
		fmt.Fprintf(&b, "      s%d: &s%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*s%d,", i-1), 8), ","))
	}
	scalars := AliasBomb{Name: "a long scalar repeated by aliases", Config: b.String(), Line: 7}

	// Outside any check block the whole file's bound (1,000,000 values)
	// holds: l0 is at line 2, l6's list of *l5 (line 8) crosses it.
	outside := AliasBomb{Name: "outside the checks", Line: 8,
		Config: "x-anchors:\n" + laughs("  ", 9) + "checks: []\n"}
	return []AliasBomb{nested, merge, scalars, outside}
}
