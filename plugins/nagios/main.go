// Command pbxwatch-plugin-nagios runs any Nagios plugin unchanged as a
// pbxwatch check: the exit code becomes the status, the first output line
// the summary, long output the evidence and perfdata metrics
// (nagios_perfdata_*). See docs/nagios.md.
package main

import "github.com/pbxwatch/pbxwatch/sdk"

func main() { sdk.Serve(&checker{}) }
