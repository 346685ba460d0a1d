package main

import (
	"github.com/prometheus/common/version"

	"github.com/pbxwatch/pbxwatch/sdk/buildversion"
)

// The build information `make build` stamps into buildversion (shared with
// the plugins) feeds `pbxwatch version`, the pbxwatch_build_info metric and
// the start-up log line through prometheus/common/version. Set before main.
func init() {
	version.Version = buildversion.Version
	version.Revision = buildversion.Revision
	version.Branch = buildversion.Branch
	version.BuildUser = buildversion.BuildUser
	version.BuildDate = buildversion.BuildDate
}
