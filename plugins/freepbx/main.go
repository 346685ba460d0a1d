// Command pbxwatch-plugin-freepbx checks that an OAuth2 Machine-to-Machine
// application can use the FreePBX API: it fetches a token, compares the
// granted scopes with the ones an integration needs, and runs a GraphQL
// probe, naming the precise cause of every failure.
package main

import "github.com/pbxwatch/pbxwatch/sdk"

func main() { sdk.Serve(&checker{}) }
