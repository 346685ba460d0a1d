// Command pbxwatch-plugin-logtail is the pbxwatch check that tails a FreePBX
// log (freepbx.log by default): every line counted exactly once across
// rotations and restarts, lines matching patterns turned into diagnoses and
// events.
package main

import "github.com/pbxwatch/pbxwatch/sdk"

func main() { sdk.Serve(&checker{}) }
