package bounds

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidShowsInvalidBytes(t *testing.T) {
	for in, want := range map[string]string{
		"caf\xe9":          `caf\xE9`,
		"ok é":             "ok é",
		"\x00\xff\xfe end": "\x00\\xFF\\xFE end",
		"\xe2\x82":         `\xE2\x82`, // a cut rune
	} {
		if got := Valid(in); got != want || !utf8.ValidString(got) {
			t.Errorf("Valid(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCutKeepsRunesWholeAndMarksTheCut(t *testing.T) {
	s := strings.Repeat("é", 1000) // 2000 bytes
	got, cut := Cut(s, 100)
	if !cut || len(got) > 100 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…[cut: 2000 bytes in all]") {
		t.Fatalf("%v %d %q", cut, len(got), got)
	}
	// What was cut before (by the plugin) is recognised by the agent.
	if again, cut := Cut(got, 100); again != got || !cut {
		t.Fatalf("re-cut: %v %q", cut, again)
	}
	if got, cut := Cut("short", 100); got != "short" || cut {
		t.Fatalf("%v %q", cut, got)
	}
}

func TestMapAndListCount(t *testing.T) {
	var hits []string
	count := func(w string) { hits = append(hits, w) }
	m := map[string]string{}
	for i := 0; i < 50; i++ {
		m[strings.Repeat("k", i+1)] = strings.Repeat("v", 300)
	}
	out := Map(m, 10, 256, "label_value", count)
	if len(out) != 10 {
		t.Fatalf("%d entries", len(out))
	}
	for _, v := range out {
		if len(v) > 256 {
			t.Fatalf("value of %d bytes", len(v))
		}
	}
	if hits[0] != "label_value_entries" || len(hits) != 11 {
		t.Fatalf("hits %v", hits)
	}
	hits = nil
	l := List([]string{"a", strings.Repeat("b", 50), "c"}, 2, 20, "remediation", count)
	if len(l) != 2 || len(l[1]) > 20 || len(hits) != 2 {
		t.Fatalf("%q %v", l, hits)
	}
}
