package accesslog

import "github.com/pbxwatch/pbxwatch/internal/tailfile"

// state is what survives a restart: the position and every total saved
// together, so a request is counted if and only if the saved offset is
// past its line.
type state struct {
	tailfile.Header
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

// newState returns an empty state, its maps made.
func newState() *state {
	st := &state{}
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
