package yamlerr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

// laughs: nine levels of nine aliases, 9^9 values from ~450 bytes.
func laughs() string {
	var b strings.Builder
	b.WriteString("l0: &l0 [a,a,a,a,a,a,a,a,a]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ","))
	}
	return b.String()
}

func TestSizeCountsAliasesAsWhatTheyStandFor(t *testing.T) {
	// mapping(1) + a, &x[1,2](3) + b, *x(3) = 1+1+3+1+3 = 9 nodes.
	got, err := CheckAliases(parse(t, "a: &x [1, 22]\nb: *x\n"), MaxExpansion)
	if err != nil {
		t.Fatal(err)
	}
	// document node + 9; bytes "a"+"1"+"22"+"b"+"1"+"22"
	if want := (Size{Nodes: 10, Bytes: 8}); got != want {
		t.Fatalf("size %+v, want %+v", got, want)
	}
}

func TestFaultAliasBombIsRefusedAtItsLineInLinearTime(t *testing.T) {
	_, err := CheckAliases(parse(t, laughs()), MaxExpansion)
	var bomb *AliasBomb
	if !errors.As(err, &bomb) {
		t.Fatalf("err = %v", err)
	}
	// l0..l3 and their keys are 8,302 values; l5's list of *l4 (line 6)
	// passes 100,000.
	if bomb.Line != 6 || bomb.Alias != "l4" || bomb.Recursive {
		t.Fatalf("bomb %+v: %v", bomb, err)
	}
	// Beyond int64: ninety levels saturate rather than wrap around.
	var b strings.Builder
	b.WriteString("l0: &l0 [a,a,a,a,a,a,a,a,a]\n")
	for i := 1; i < 90; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ","))
	}
	if _, err := CheckAliases(parse(t, b.String()), Size{Nodes: 1 << 59, Bytes: 1 << 59}); err == nil {
		t.Fatal("a 9^90 expansion passed an int64-sized bound")
	}
}

func TestRecursiveAliasIsNamed(t *testing.T) {
	_, err := CheckAliases(parse(t, "a:\n  b: &r {self: [1, *r]}\n"), MaxExpansion)
	var bomb *AliasBomb
	if !errors.As(err, &bomb) || !bomb.Recursive || bomb.Line != 2 {
		t.Fatalf("err = %v (%+v)", err, bomb)
	}
}
