// Package buildtest builds the project's binaries for tests that must run
// them as real processes (plugins, the agent), with the SDK's builder
// (sdktest.Build): once per test process, cached per checkout.
package buildtest

import (
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// Build compiles the main package pkg (an import path such as
// "github.com/pbxwatch/pbxwatch/plugins/whmcs") and returns the binary's
// path, named as `make build` names it.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	return sdktest.Build(t, pkg)
}
