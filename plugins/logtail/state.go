package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/pbxwatch/pbxwatch/internal/tailfile"
)

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
// position keeps the JSON keys it had before the reading moved to
// internal/tailfile, so saved states stay valid.
type state struct {
	Version int    `json:"version"`
	Path    string `json:"path"`
	tailfile.Position
	Totals totals `json:"totals"`
}

const stateVersion = 1

// loadState returns the saved state, or nil when there is none.
func loadState(file string) (*state, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%s: version %d, want %d", file, st.Version, stateVersion)
	}
	st.Totals.init()
	return &st, nil
}

func (t *totals) init() {
	if t.Lines == nil {
		t.Lines = map[string]uint64{}
	}
	if t.Matches == nil {
		t.Matches = map[string]uint64{}
	}
}

// saveState writes the state atomically (see tailfile.SaveJSON).
func saveState(file string, st *state) error { return tailfile.SaveJSON(file, st) }
