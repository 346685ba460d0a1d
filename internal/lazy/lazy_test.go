package lazy

import (
	"sync"
	"testing"
)

// Every goroutine gets the one compiled expression, compiled once, and it
// matches as regexp.MustCompile's would.
func TestRegexpCompilesOnceForEveryGoroutine(t *testing.T) {
	re := Regexp(`^a+(b)$`)
	const goroutines = 8
	got := make(chan any, goroutines)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() { got <- re() })
	}
	wg.Wait()
	close(got)
	first := re()
	for r := range got {
		if r != first {
			t.Fatalf("got %p and %p: compiled more than once", r, first)
		}
	}
	if m := first.FindStringSubmatch("aab"); len(m) != 2 || m[1] != "b" {
		t.Errorf("FindStringSubmatch(aab) = %q, want [aab b]", m)
	}
}

// A bad expression panics on first use, as regexp.MustCompile does at
// start, and not before.
func TestRegexpPanicsOnFirstUseOfABadExpression(t *testing.T) {
	re := Regexp(`(`) // no panic here
	defer func() {
		if recover() == nil {
			t.Error("a bad expression compiled without a panic")
		}
	}()
	re()
}
