// Package nagios is the bundled plugin pbxwatch-plugin-nagios. It runs any Nagios plugin unchanged as a
// pbxwatch check: the exit code becomes the status, the first output line
// the summary, long output the evidence and perfdata metrics
// (nagios_perfdata_*). See docs/nagios.md.
//
// The plugin is not a binary of its own: it runs inside pbxwatch's
// multi-call binary, which calls Main when started under the name
// pbxwatch-plugin-nagios (a link to pbxwatch; agent/bundled.go).
package nagios

import "github.com/pbxwatch/pbxwatch/sdk"

// Main serves the check to the agent (sdk.Serve).
func Main() { sdk.Serve(&checker{}) }
