// Package whmcs is the bundled plugin pbxwatch-plugin-whmcs, the pbxwatch check of a WHMCS install's
// external API: it authenticates as the configured API credential, probes
// the actions the integration needs without side effects, and when WHMCS (or
// a CDN, WAF or web server in front of it) refuses, names the precise cause
// and the settings page that fixes it.
//
// The plugin is not a binary of its own: it runs inside pbxwatch's
// multi-call binary, which calls Main when started under the name
// pbxwatch-plugin-whmcs (a link to pbxwatch; agent/bundled.go).
package whmcs

import "github.com/pbxwatch/pbxwatch/sdk"

// Main serves the check to the agent (sdk.Serve).
func Main() { sdk.Serve(&checker{}) }
