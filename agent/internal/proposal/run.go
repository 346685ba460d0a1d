package proposal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Options are `pbxwatch init`'s flags.
type Options struct {
	Root      string // --root: the host's filesystem root
	Output    string // --output: "-" prints; "" is DefaultOutput under Root
	PluginDir string // --plugin.dir: where pbxwatch-plugin-freepbx is
}

// Run detects, proposes and writes (never over an existing file: then the
// proposal goes to stdout). It returns the exit code.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) int {
	h := Detect(ctx, o.Root, o.PluginDir)
	hostname, _ := os.Hostname()
	proposal, err := Build(h, hostname, time.Now()).Render()
	if err != nil {
		fmt.Fprintf(stderr, "pbxwatch init: %v\n", err)
		return 1
	}
	for _, w := range h.Warnings() {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	output := o.Output
	if output == "-" {
		fmt.Fprint(stdout, proposal)
		return 0
	}
	if output == "" {
		output = filepath.Join(o.Root, DefaultOutput)
	}
	if err := writeNew(output, proposal); err != nil {
		if errors.Is(err, fs.ErrExist) {
			fmt.Fprintf(stderr, "%s exists and is left as it is; the proposal follows on standard output (compare, then merge what you want by hand).\n", output)
			fmt.Fprint(stdout, proposal)
			return 0
		}
		fmt.Fprintf(stderr, "pbxwatch init: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "wrote %s: read its comments, fill in what they ask, then run\n  pbxwatch validate --config.file=%s\n", output, output)
	return 0
}

// writeNew creates path (and its directory) only if it does not exist.
func writeNew(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
