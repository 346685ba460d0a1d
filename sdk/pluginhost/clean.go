package pluginhost

import "github.com/pbxwatch/pbxwatch/sdk"

// clean is the agent's side of the output boundary: every string of a
// result, whatever plugin sent it, has the check's secrets scrubbed and is
// bounded (package bounds, each cut counted) before the agent stores,
// exports, logs or alerts on it.
func (h *Host) clean(r *sdk.Result) *sdk.Result {
	r.Clean(h.scrub.String, h.spec.OnTruncate)
	return r
}
