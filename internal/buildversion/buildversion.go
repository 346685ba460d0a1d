// Package buildversion completes the build information of every pbxwatch
// binary (prometheus/common/version), so that none prints an empty field.
package buildversion

import (
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// unknown stands in for build information nobody supplied, so that
// `pbxwatch version` never prints an empty field.
const unknown = "unknown"

// Fill completes the build information `make build` stamps in with
// -ldflags -X. A plain `go build` leaves those variables empty; what Go
// recorded itself (module version, VCS revision and time when built with
// -buildvcs) is used instead, and "unknown" for the rest.
func Fill() {
	info, _ := debug.ReadBuildInfo()
	var settings map[string]string
	if info != nil {
		settings = make(map[string]string, len(info.Settings))
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	moduleVersion := ""
	if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		moduleVersion = info.Main.Version
	}
	version.Version = firstNonEmpty(version.Version, moduleVersion, unknown)
	version.Revision = firstNonEmpty(version.Revision, settings["vcs.revision"], unknown)
	version.Branch = firstNonEmpty(version.Branch, unknown)
	version.BuildUser = firstNonEmpty(version.BuildUser, unknown)
	version.BuildDate = firstNonEmpty(version.BuildDate, settings["vcs.time"], unknown)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
