package tailfile

import (
	"fmt"
	"testing"
)

// A rotated file that one listing missed (taken while logrotate renamed
// every numbered file) stays known however many rotated files the
// directory holds, so it is not read again when the next listing shows it.
func TestMergeKnownKeepsAFileTheListingMissed(t *testing.T) {
	for _, files := range []int{10, maxKnown, 3 * maxKnown} {
		var before []KnownHead
		for i := 0; i < files; i++ {
			before = append(before, KnownHead{Len: 64, FP: fmt.Sprintf("head-%d", i)})
		}
		missed := before[files/2]
		now := append(append([]KnownHead{}, before[:files/2]...), before[files/2+1:]...)
		merged := mergeKnown(now, before)
		found := false
		for _, k := range merged {
			found = found || k == missed
		}
		if !found {
			t.Errorf("%d rotated files: the one the listing missed was forgotten", files)
		}
		if len(merged) > len(now)+maxKnown {
			t.Errorf("%d rotated files: %d heads kept, more than the listing's %d and %d besides", files, len(merged), len(now), maxKnown)
		}
	}
}
