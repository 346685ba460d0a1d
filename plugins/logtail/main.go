// Package logtail is the bundled plugin pbxwatch-plugin-logtail, the pbxwatch check that tails a FreePBX
// log (freepbx.log by default): every line counted exactly once across
// rotations and restarts, lines matching patterns turned into diagnoses and
// events.
//
// The plugin is not a binary of its own: it runs inside pbxwatch's
// multi-call binary, which calls Main when started under the name
// pbxwatch-plugin-logtail (a link to pbxwatch; agent/bundled.go).
package logtail

import "github.com/pbxwatch/pbxwatch/sdk"

// Main serves the check to the agent (sdk.Serve).
func Main() { sdk.Serve(&checker{}) }
