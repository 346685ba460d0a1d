// Command example is a complete pbxwatch check plugin, kept small to show the
// SDK: it checks that the newest FreePBX backup file is recent and not
// suspiciously small. Build it with `go build -o pbxwatch-plugin-backup`,
// put the binary in the agent's plugin_dir, and configure:
//
//	checks:
//	  - name: freepbx_backup
//	    plugin: backup
//	    schedule: "@every 15m"
//	    config:
//	      glob: /var/spool/asterisk/backup/*/*.tar.gz
//	      max_age: 26h
//	      min_bytes: 1048576
package main

import "github.com/pbxwatch/pbxwatch/sdk"

func main() { sdk.Serve(&backupCheck{}) }
