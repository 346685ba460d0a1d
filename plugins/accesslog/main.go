// Package accesslog is the bundled plugin pbxwatch-plugin-accesslog, the pbxwatch check that reads the
// web server's access log (Apache or nginx, combined or common format):
// every request counted exactly once across rotations and restarts, by
// FreePBX API endpoint and status, and diagnoses for API clients whose
// calls began failing, bursts of token failures and GraphQL/REST 5xx.
//
// The plugin is not a binary of its own: it runs inside pbxwatch's
// multi-call binary, which calls Main when started under the name
// pbxwatch-plugin-accesslog (a link to pbxwatch; agent/bundled.go).
package accesslog

import "github.com/pbxwatch/pbxwatch/sdk"

// Main serves the check to the agent (sdk.Serve).
func Main() { sdk.Serve(&checker{}) }
