// Command pbxwatch-plugin-whmcs is the pbxwatch check of a WHMCS install's
// external API: it authenticates as the configured API credential, probes
// the actions the integration needs without side effects, and when WHMCS (or
// a CDN, WAF or web server in front of it) refuses, names the precise cause
// and the settings page that fixes it.
package main

import "github.com/pbxwatch/pbxwatch/sdk"

func main() { sdk.Serve(&checker{}) }
