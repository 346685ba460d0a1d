// Package buildversion holds the build information of every pbxwatch binary,
// the agent's and the plugins': `make build` stamps the variables with
// -ldflags -X; a plain `go build` gets what Go recorded itself, else
// "unknown", so no field is ever printed empty. It imports only the
// standard library, so the SDK (its own module for plugin authors) gains no
// dependency by carrying it.
package buildversion

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"text/template"
)

// Stamped by `make build` (-X github.com/pbxwatch/pbxwatch/sdk/buildversion.NAME=VALUE).
var (
	Version   string
	Revision  string
	Branch    string
	BuildUser string
	BuildDate string
)

// unknown stands in for build information nobody supplied.
const unknown = "unknown"

func init() { fill() }

// fill completes the variables a plain `go build` leaves empty from Go's
// build info: the module version, and the VCS revision and time when built
// with -buildvcs.
func fill() {
	info, _ := debug.ReadBuildInfo()
	settings := map[string]string{}
	moduleVersion := ""
	if info != nil {
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if v := info.Main.Version; v != "" && v != "(devel)" {
			moduleVersion = v
		}
	}
	Version = firstNonEmpty(Version, moduleVersion, unknown)
	Revision = firstNonEmpty(Revision, settings["vcs.revision"], unknown)
	Branch = firstNonEmpty(Branch, unknown)
	BuildUser = firstNonEmpty(BuildUser, unknown)
	BuildDate = firstNonEmpty(BuildDate, settings["vcs.time"], unknown)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// printLayout is prometheus/common/version.Print's layout, so the agent
// and its plugins print their builds alike.
const printLayout = `{{.Program}}, version {{.Version}} (branch: {{.Branch}}, revision: {{.Revision}})
  build user:       {{.BuildUser}}
  build date:       {{.BuildDate}}
  go version:       {{.GoVersion}}
  platform:         {{.Platform}}`

// Print returns the build information of program, one field a line. The
// layout is parsed at each call, not kept parsed in a package variable: a
// process prints its version once if at all, and the parsed template
// would otherwise be heap of every process of the multi-call binary.
func Print(program string) string {
	var b bytes.Buffer
	printTmpl := template.Must(template.New("version").Parse(printLayout))
	_ = printTmpl.Execute(&b, map[string]string{
		"Program": program, "Version": Version, "Branch": Branch, "Revision": Revision,
		"BuildUser": BuildUser, "BuildDate": BuildDate,
		"GoVersion": runtime.Version(), "Platform": runtime.GOOS + "/" + runtime.GOARCH,
	})
	return b.String()
}
