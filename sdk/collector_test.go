package sdk

import (
	"runtime/debug"
	"testing"
)

func TestServeRunsTheCollectorAtFiftyUnlessToldOtherwise(t *testing.T) {
	restore := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(restore) })
	for _, c := range []struct {
		name        string
		gogc        string
		before, got int
	}{
		{"default", "", 100, defaultGCPercent},
		{"GOGC set by the operator", "100", 100, 100},
		{"the plugin's own setting", "", 200, 200},
		{"collector off by the plugin", "", -1, -1},
	} {
		t.Setenv("GOGC", c.gogc)
		debug.SetGCPercent(c.before)
		setCollectorDefault()
		if got := debug.SetGCPercent(100); got != c.got {
			t.Errorf("%s: GC percent %d, want %d", c.name, got, c.got)
		}
	}
}
