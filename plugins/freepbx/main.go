// Package freepbx is the bundled plugin pbxwatch-plugin-freepbx. It checks that an OAuth2 Machine-to-Machine
// application can use the FreePBX API: it fetches a token, compares the
// granted scopes with the ones an integration needs, and runs a GraphQL
// probe, naming the precise cause of every failure.
//
// Run as `pbxwatch-plugin-freepbx detect`, it prints what `pbxwatch init`
// needs of FreePBX's database instead (detect.go).
//
// The plugin is not a binary of its own: it runs inside pbxwatch's
// multi-call binary, which calls Main when started under the name
// pbxwatch-plugin-freepbx (a link to pbxwatch; agent/bundled.go).
package freepbx

import (
	"os"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Main serves the check to the agent, or with the argument detect prints
// what `pbxwatch init` needs of FreePBX's database.
func Main() {
	if len(os.Args) > 1 && os.Args[1] == detectCommand {
		os.Exit(runDetect(os.Args[2:], os.Stdout, os.Stderr))
	}
	sdk.Serve(&checker{})
}
