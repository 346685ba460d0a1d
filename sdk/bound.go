package sdk

import "github.com/pbxwatch/pbxwatch/sdk/bounds"

// Bound makes every string of r valid UTF-8 (invalid bytes shown as \xNN)
// and cuts it to the bounds of package bounds, dropping items past their
// count bounds; count (nil for none) is told each bound hit. Serve applies
// it to every result, and the agent again to whatever a plugin returns:
// plugin authors need not call it.
func (r *Result) Bound(count bounds.Counter) { r.Clean(nil, count) }
