package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/sdk/yamlerr"
)

// Config is what the agent hands a plugin: the check's `config:` block and
// where the check may keep state.
type Config struct {
	// CheckName is the configured check's name.
	CheckName string
	// StateDir is a directory private to this check, kept across restarts.
	// `pbxwatch check` run by hand hands a throw-away copy, so a manual run
	// never moves the daemon's persisted state.
	StateDir string

	source string      // the config file the block came from
	raw    []byte      // the block, re-encoded as YAML by the agent
	lines  map[int]int // line in raw -> line in source
}

// NewConfig builds a Config. The agent and sdktest call it; plugin authors
// need it only to unit-test Configure without a process.
func NewConfig(checkName, stateDir, sourceFile string, raw []byte, lineMap map[int]int) *Config {
	return &Config{CheckName: checkName, StateDir: stateDir, source: sourceFile, raw: raw, lines: lineMap}
}

// Raw returns the config block as YAML.
func (c *Config) Raw() []byte { return c.raw }

// Decode decodes the config block into v strictly: a key v does not declare is
// an error. Errors name the original config file and line. Validation in the
// type's func-style UnmarshalYAML reports each problem with Problems, at its
// key's line, which is mapped to the config file as well.
func (c *Config) Decode(v any) error {
	empty := isEmptyBlock(c.raw)
	if empty {
		// No block, `config: ~` or a bare tag: an empty mapping, so that
		// the type's defaults and validation (UnmarshalYAML) still run;
		// yaml skips UnmarshalYAML for a null document.
		c.raw = []byte("{}")
	}
	if err := c.checkAliases(); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(c.raw))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		problems := yamlerr.SplitIn(err, c.raw, v)
		if empty {
			// Line 1 of the "{}" put in its place is no line of the
			// config file: a missing key's problem names the key only.
			for i := range problems {
				problems[i].Line = 0
			}
		}
		return c.mapLines(problems)
	}
	return nil
}

// checkAliases refuses a block whose aliases expand beyond
// yamlerr.MaxExpansion before the decoder expands them: the agent sends
// blocks with their aliases resolved and bounded, but a plugin may be handed
// a block by other hosts (sdktest, a plugin's own tests).
func (c *Config) checkAliases() error {
	var n yaml.Node
	if yaml.Unmarshal(c.raw, &n) != nil {
		return nil // Decode reports the syntax error
	}
	_, err := yamlerr.CheckAliases(&n, yamlerr.MaxExpansion)
	var bomb *yamlerr.AliasBomb
	if errors.As(err, &bomb) {
		return fmt.Errorf("%s: %v", c.Position(bomb.Line), bomb)
	}
	return err
}

// isEmptyBlock reports whether raw holds no value: nothing, or a null or
// empty scalar.
func isEmptyBlock(raw []byte) bool {
	if len(bytes.TrimSpace(raw)) == 0 {
		return true
	}
	var n yaml.Node
	if yaml.Unmarshal(raw, &n) != nil {
		return false // Decode reports the syntax error
	}
	if len(n.Content) == 0 {
		return true
	}
	root := n.Content[0]
	return root.Kind == yaml.ScalarNode && root.Value == "" || root.Tag == "!!null"
}

var lineRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`line (\d+)`) })

// mapLines rewrites each problem's line to "FILE:LINE" of the original.
func (c *Config) mapLines(problems []yamlerr.Problem) error {
	var out []error
	for _, p := range problems {
		if p.Line > 0 {
			out = append(out, fmt.Errorf("%s: %s", c.Position(p.Line), c.Locate(p.Msg)))
		} else {
			out = append(out, errors.New(c.Locate(p.Msg)))
		}
	}
	return errors.Join(out...)
}

// Locate rewrites every "line N" in msg, N being a line of the re-encoded
// block, to the position in the original config file.
func (c *Config) Locate(msg string) string {
	return lineRef().ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len("line "):])
		if err != nil {
			return m
		}
		return c.Position(n)
	})
}

// Position names line n of the re-encoded block as "FILE:LINE" of the config
// file it came from (or "line N" when that is unknown).
func (c *Config) Position(n int) string {
	if orig, ok := c.lines[n]; ok && c.source != "" {
		return fmt.Sprintf("%s:%d", c.source, orig)
	}
	if orig, ok := c.lines[n]; ok {
		return fmt.Sprintf("line %d", orig)
	}
	return fmt.Sprintf("line %d", n)
}

// Errorf returns an error prefixed with the position of node (a node of the
// block being decoded, as seen by an UnmarshalYAML method).
//
// Deprecated: validate in the config type's func-style UnmarshalYAML and
// report each problem with Problems.Add, which finds the key's line.
func (c *Config) Errorf(node *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if node == nil {
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %s", c.Position(node.Line), msg)
}
