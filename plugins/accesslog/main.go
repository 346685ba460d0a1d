// Command pbxwatch-plugin-accesslog is the pbxwatch check that reads the
// web server's access log (Apache or nginx, combined or common format):
// every request counted exactly once across rotations and restarts, by
// FreePBX API endpoint and status, and diagnoses for API clients whose
// calls began failing, bursts of token failures and GraphQL/REST 5xx.
package main

import "github.com/pbxwatch/pbxwatch/sdk"

func main() { sdk.Serve(&checker{}) }
