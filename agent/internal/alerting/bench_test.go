package alerting

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkObserveSteady is the common case: a check keeps failing with
// the same code, so nothing changes and nothing is written.
func BenchmarkObserveSteady(b *testing.B) {
	m, err := New(Config{}, b.TempDir(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	res := critical("whmcs.invalid_ip", "ip", "step one", "step two")
	at := t0
	for b.Loop() {
		at = at.Add(time.Second)
		m.Observe(whmcs, res, at)
	}
}

// BenchmarkObserveChange alternates fail/fix: every run fires or resolves
// and so rewrites the state file (fsync included), with 50 other alerts held.
func BenchmarkObserveChange(b *testing.B) {
	m, err := New(Config{}, b.TempDir(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		m.Observe(CheckInfo{Name: fmt.Sprintf("c%d", i), Plugin: "p"}, critical("x.fail", "fail"), t0)
	}
	bad, good := critical("whmcs.invalid_ip", "ip"), ok()
	at := t0
	i := 0
	for b.Loop() {
		at = at.Add(time.Second)
		if i%2 == 0 {
			m.Observe(whmcs, bad, at)
		} else {
			m.Observe(whmcs, good, at)
		}
		i++
	}
}
