package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pbxwatch/pbxwatch/plugins/accesslog"
	"github.com/pbxwatch/pbxwatch/plugins/freepbx"
	"github.com/pbxwatch/pbxwatch/plugins/logtail"
	"github.com/pbxwatch/pbxwatch/plugins/nagios"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs"
)

// pluginPrefix is how the agent names plugin executables in plugin_dir.
const pluginPrefix = "pbxwatch-plugin-"

// bundled are the plugins built into pbxwatch's own binary. Installed,
// each is a link to pbxwatch named pbxwatch-plugin-NAME: one executable
// file, so the agent and every plugin process share its code pages (the
// demo's seven checks: 101 MiB PSS as five binaries, 54 MiB as one when
// it was introduced; see docs/design.md "One binary for the agent and the
// bundled plugins"). Each still runs as
// a process of its own, so a crashing plugin takes neither the agent nor
// another plugin down.
var bundled = map[string]func(){
	"accesslog": accesslog.Main,
	"freepbx":   freepbx.Main,
	"logtail":   logtail.Main,
	"nagios":    nagios.Main,
	"whmcs":     whmcs.Main,
}

// bundledPlugin returns the entry point of the plugin that argv0 names
// (pbxwatch-plugin-NAME, as a link to pbxwatch is called), or nil when
// argv0 names the agent. A link under a plugin name pbxwatch does not
// bundle is an error, said on stderr where the agent shows a plugin's
// last words.
func bundledPlugin(argv0 string) (func(), error) {
	base := filepath.Base(argv0)
	name, ok := strings.CutPrefix(base, pluginPrefix)
	if !ok {
		return nil, nil
	}
	if main, ok := bundled[name]; ok {
		return main, nil
	}
	names := make([]string, 0, len(bundled))
	for n := range bundled {
		names = append(names, pluginPrefix+n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("%s is a link to pbxwatch, which bundles no plugin of that name: a link to pbxwatch must be named one of %s; a plugin of your own is a binary of its own (docs/writing-plugins.md)", base, strings.Join(names, ", "))
}

// runBundledPlugin runs the plugin argv0 names and reports whether it did.
func runBundledPlugin(argv0 string) bool {
	main, err := bundledPlugin(argv0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if main == nil {
		return false
	}
	main()
	return true
}
