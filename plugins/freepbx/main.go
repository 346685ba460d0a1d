// Command pbxwatch-plugin-freepbx checks that an OAuth2 Machine-to-Machine
// application can use the FreePBX API: it fetches a token, compares the
// granted scopes with the ones an integration needs, and runs a GraphQL
// probe, naming the precise cause of every failure.
//
// Run as `pbxwatch-plugin-freepbx detect`, it prints what `pbxwatch init`
// needs of FreePBX's database instead (detect.go).
package main

import (
	"os"

	"github.com/pbxwatch/pbxwatch/sdk"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == detectCommand {
		os.Exit(runDetect(os.Args[2:], os.Stdout, os.Stderr))
	}
	sdk.Serve(&checker{})
}
