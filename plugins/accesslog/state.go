package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/pbxwatch/pbxwatch/internal/tailfile"
)

// state is what survives a restart: the position and every total saved
// together, so a request is counted if and only if the saved offset is
// past its line.
type state struct {
	Version int    `json:"version"`
	Path    string `json:"path"`
	tailfile.Position
	Totals totals `json:"totals"`
	// Clients are the API clients' streaks, for the diagnoses.
	Clients tracker `json:"clients"`
	// Errors5xx are the 5xx episodes of gql and rest.
	Errors5xx map[string]*episode `json:"errors_5xx"`
	// maxSlots is max_clients, config rather than state.
	maxSlots int
}

type totals struct {
	tailfile.Counters
	Unparsed uint64 `json:"unparsed"`
	// Requests by "endpoint status"; Failed by "endpoint status client".
	Requests map[string]uint64 `json:"requests"`
	Failed   map[string]uint64 `json:"failed"`
	// Slots are the clients with their own Failed series, with the time
	// of their last failure: sticky (counters stay monotonic) until idle
	// for slotIdle, then folded into client="other".
	Slots map[string]int64 `json:"slots"`
}

const stateVersion = 1

func newState(path string) *state {
	st := &state{Version: stateVersion, Path: path}
	st.init()
	return st
}

func (st *state) init() {
	if st.Totals.Requests == nil {
		st.Totals.Requests = map[string]uint64{}
	}
	if st.Totals.Failed == nil {
		st.Totals.Failed = map[string]uint64{}
	}
	if st.Totals.Slots == nil {
		st.Totals.Slots = map[string]int64{}
	}
	if st.Clients == nil {
		st.Clients = tracker{}
	}
	if st.Errors5xx == nil {
		st.Errors5xx = map[string]*episode{}
	}
}

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
	st.init()
	return &st, nil
}
