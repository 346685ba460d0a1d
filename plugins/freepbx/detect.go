package freepbx

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
)

// detectCommand is the one argument the agent never passes a plugin it
// serves; `pbxwatch init` runs `pbxwatch-plugin-freepbx detect --root=DIR`
// and reads FreePBX's facts as JSON, so that the agent's binary links no
// database driver (docs/design.md, "Where init's FreePBX look-up runs").
const detectCommand = "detect"

// detectTimeout bounds the whole look-up (connecting and every query).
const detectTimeout = 30 * time.Second

// runDetect answers `detect [--root=DIR]`: the facts on stdout, exit 0,
// whatever it found (problems are facts too); exit 2 on a usage error.
func runDetect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(detectCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "/", "Treat DIR as the filesystem root of the FreePBX host.")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "detect: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), detectTimeout)
	defer cancel()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(freepbxdb.Detect(ctx, *root)); err != nil {
		fmt.Fprintf(stderr, "detect: %v\n", err)
		return 1
	}
	return 0
}
