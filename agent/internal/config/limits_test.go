package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// 80,000 unknown keys took 16 s in yaml's quadratic duplicate check; now the
// mapping is refused before decoding, naming where it is.
func TestHugeMappingIsRefusedQuickly(t *testing.T) {
	var b strings.Builder
	b.WriteString("agent:\n")
	for i := 0; i < 80000; i++ {
		fmt.Fprintf(&b, "  k%d: 1\n", i)
	}
	began := time.Now()
	_, err := Parse("big.yml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "big.yml:2: this mapping has 80000 keys; at most 1000") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %s", took)
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
