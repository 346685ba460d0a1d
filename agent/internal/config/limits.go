package config

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Bounds of the config file, checked before it is decoded: the decoder's
// duplicate-key check is quadratic in a mapping's size (80,000 keys took
// 16 s), and nothing else stops a runaway generator's file.
const (
	MaxFileBytes   = 4 << 20 // the whole file
	MaxMappingKeys = 1000    // keys of any one mapping
	MaxChecks      = 5000    // entries of checks:
)

// checkShape refuses a config beyond the bounds, naming where.
func checkShape(path string, b []byte) error {
	if len(b) > MaxFileBytes {
		return fmt.Errorf("%s: the file is %d bytes; a pbxwatch config may be at most %d (%d MiB): is it the right file?", path, len(b), MaxFileBytes, MaxFileBytes>>20)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil // the decoder reports syntax errors with their lines
	}
	var err error
	walk(&doc, func(n *yaml.Node) bool {
		if n.Kind == yaml.MappingNode && len(n.Content)/2 > MaxMappingKeys {
			err = fmt.Errorf("%s:%d: this mapping has %d keys; at most %d are allowed", path, n.Line, len(n.Content)/2, MaxMappingKeys)
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	if root := docRoot(&doc); root != nil && root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if c := root.Content[i+1]; root.Content[i].Value == "checks" && len(c.Content) > MaxChecks {
				return fmt.Errorf("%s:%d: %d checks; one agent runs at most %d", path, c.Line, len(c.Content), MaxChecks)
			}
		}
	}
	return nil
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return nil
}

// walk visits n and its descendants (not through aliases) until visit
// returns false.
func walk(n *yaml.Node, visit func(*yaml.Node) bool) bool {
	if !visit(n) {
		return false
	}
	for _, c := range n.Content {
		if !walk(c, visit) {
			return false
		}
	}
	return true
}
