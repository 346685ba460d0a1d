package main

import "github.com/pbxwatch/pbxwatch/internal/buildversion"

// Before main: the version variables feed `pbxwatch version`, the
// pbxwatch_build_info metric and the start-up log line.
func init() { buildversion.Fill() }
