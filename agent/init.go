package main

import (
	"context"
	"os"

	"github.com/alecthomas/kingpin/v2"

	"github.com/pbxwatch/pbxwatch/agent/internal/config"
	"github.com/pbxwatch/pbxwatch/agent/internal/proposal"
)

// registerInit adds `pbxwatch init` (agent/internal/proposal) to app and
// returns its command name and what runs it.
func registerInit(app *kingpin.Application) (string, func() int) {
	cmd := app.Command("init", "Detect FreePBX on this host (read-only) and write a starting "+proposal.DefaultOutput+"; an existing file is never overwritten (the proposal is printed instead).")
	var o proposal.Options
	cmd.Flag("root", "Treat DIR as the filesystem root (to prepare a config from a copy of a host, or in tests).").Default("/").PlaceHolder("DIR").StringVar(&o.Root)
	cmd.Flag("output", "Where to write the proposal; - prints it. Default: "+proposal.DefaultOutput+" under --root.").PlaceHolder("FILE").StringVar(&o.Output)
	cmd.Flag("plugin.dir", "Where the plugins are installed: init asks pbxwatch-plugin-freepbx there to read FreePBX's database.").Default(config.DefaultPluginDir).PlaceHolder("DIR").StringVar(&o.PluginDir)
	return cmd.FullCommand(), func() int { return proposal.Run(context.Background(), o, os.Stdout, os.Stderr) }
}
