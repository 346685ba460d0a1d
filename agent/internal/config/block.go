package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

var envRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`) })

// expansion records what ${ENV} expansion of one check's block used: every
// value is a secret to the agent (the documented way to pass one), scrubbed
// from whatever the agent outputs, and every name is kept out of other
// checks' plugin environments.
type expansion struct {
	names  []string
	values []string
}

// expandEnv replaces ${NAME} in s with the environment variable's value; $$
// stands for a literal $. An unset variable is an error, not an empty
// string: an empty secret would only fail later, less clearly.
func (x *expansion) expandEnv(s string) (string, error) {
	var missing []string
	out := envRef().ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		x.names = append(x.names, name)
		x.values = append(x.values, v)
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set (set it in the service's environment, e.g. an EnvironmentFile=, or use a *_file key)", strings.Join(missing, ", "))
	}
	return out, nil
}

// encodeBlock expands ${ENV} in the scalars of a check's config block,
// re-encodes it as YAML for the plugin, and maps each line of the result back
// to the config file, so that the plugin's errors can name the real line.
func encodeBlock(n *yaml.Node, x *expansion) ([]byte, map[int]int, error) {
	if n.Kind == 0 {
		return nil, nil, nil
	}
	expanded, err := x.expandNode(n, 0)
	if err != nil {
		return nil, nil, err
	}
	b, err := yaml.Marshal(expanded)
	if err != nil {
		return nil, nil, fmt.Errorf("%d: encode config block: %v", n.Line, err)
	}
	var again yaml.Node
	if err := yaml.Unmarshal(b, &again); err != nil {
		return nil, nil, fmt.Errorf("%d: re-read config block: %v", n.Line, err)
	}
	lines := map[int]int{}
	root := &again
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	// The expanded tree keeps each node's line in the config file, also
	// for what an alias brought in (the anchor's lines).
	mapLines(expanded, root, lines)
	return b, lines, nil
}

// maxAliasDepth bounds alias resolution (and so a recursive alias).
const maxAliasDepth = 64

// expandNode returns a deep copy of n with ${ENV} expanded in every scalar
// and every alias replaced by a copy of its anchor's node: a block may use
// an anchor defined elsewhere in the file (`config: *common`, `<<:
// *common`), and the plugin gets the block alone.
func (x *expansion) expandNode(n *yaml.Node, depth int) (*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || depth >= maxAliasDepth {
			return nil, fmt.Errorf("%d: alias *%s is recursive or nested too deep", n.Line, n.Value)
		}
		return x.expandNode(n.Alias, depth+1)
	}
	cp := *n
	cp.Anchor = ""
	if n.Kind == yaml.ScalarNode && n.Tag != "!!binary" {
		v, err := x.expandEnv(n.Value)
		if err != nil {
			return nil, fmt.Errorf("%d: %v", n.Line, err)
		}
		cp.Value = v
		if v != n.Value {
			// Keep the expanded value a string: a secret of digits must not
			// turn into a number.
			cp.Tag, cp.Style = "!!str", yaml.DoubleQuotedStyle
		}
	}
	cp.Content = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		e, err := x.expandNode(c, depth)
		if err != nil {
			return nil, err
		}
		cp.Content[i] = e
	}
	return &cp, nil
}

// mapLines walks the original and re-encoded trees, which have the same
// shape, recording re-encoded line -> original line.
func mapLines(orig, enc *yaml.Node, lines map[int]int) {
	if _, ok := lines[enc.Line]; !ok {
		lines[enc.Line] = orig.Line
	}
	for i := 0; i < len(orig.Content) && i < len(enc.Content); i++ {
		mapLines(orig.Content[i], enc.Content[i], lines)
	}
}
