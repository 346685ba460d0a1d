package config

import (
	"fmt"
	"strings"
	"testing"
)

// 80,000 unknown keys took 16 s in yaml's quadratic duplicate check; now the
// mapping is refused before decoding, naming where it is.
// hugeMapping is a config whose agent: block has 80,000 keys.
func hugeMapping() []byte {
	var b strings.Builder
	b.WriteString("agent:\n")
	for i := 0; i < 80000; i++ {
		fmt.Fprintf(&b, "  k%d: 1\n", i)
	}
	return []byte(b.String())
}

// The mapping bound refuses the file with its line. How fast is measured
// by BenchmarkHugeMappingRefusal (a timed assertion here failed under
// -race on a loaded machine, measuring the machine rather than the code).
func TestHugeMappingIsRefused(t *testing.T) {
	_, err := Parse("big.yml", hugeMapping())
	if err == nil || !strings.Contains(err.Error(), "big.yml:2: this mapping has 80000 keys; at most 1000") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkHugeMappingRefusal: refusing an 80,000-key mapping (about
// 1.1 MB) costs one YAML parse and no decoding.
func BenchmarkHugeMappingRefusal(b *testing.B) {
	cfg := hugeMapping()
	b.SetBytes(int64(len(cfg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("big.yml", cfg); err == nil {
			b.Fatal("accepted")
		}
	}
}

func TestFileSizeAndCheckCountBounded(t *testing.T) {
	big := "# " + strings.Repeat("x", MaxFileBytes) + "\n"
	if _, err := Parse("huge.yml", []byte(big)); err == nil || !strings.Contains(err.Error(), "may be at most 4194304") {
		t.Fatalf("err = %v", err)
	}
	var b strings.Builder
	b.WriteString("checks:\n")
	for i := 0; i <= MaxChecks; i++ {
		fmt.Fprintf(&b, "  - {name: c%d, plugin: x}\n", i)
	}
	if _, err := Parse("many.yml", []byte(b.String())); err == nil || !strings.Contains(err.Error(), "many.yml:2: 5001 checks; one agent runs at most 5000") {
		t.Fatalf("err = %v", err)
	}
}
