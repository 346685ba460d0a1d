package logtail

import "github.com/pbxwatch/pbxwatch/internal/tailfile"

// totals are the plugin's cumulative counters. They are saved in the same
// file as the position, so they move together: a line is in the totals if
// and only if the saved offset is past it.
type totals struct {
	Lines             map[string]uint64 `json:"lines"`   // by level
	Matches           map[string]uint64 `json:"matches"` // by pattern
	tailfile.Counters                   // read_bytes, rotations, truncations
	Oversized         uint64            `json:"oversized"`
}

// state is what survives a restart of the plugin or the host. The embedded
// header (version, path, position) keeps the JSON keys it had before the
// reading moved to internal/tailfile, so saved states stay valid.
type state struct {
	tailfile.Header
	Totals totals `json:"totals"`
}

const stateVersion = 1

func (t *totals) init() {
	if t.Lines == nil {
		t.Lines = map[string]uint64{}
	}
	if t.Matches == nil {
		t.Matches = map[string]uint64{}
	}
}
