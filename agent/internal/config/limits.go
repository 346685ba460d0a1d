package config

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/sdk/yamlerr"
)

// Bounds of the config file, checked before it is decoded: the decoder's
// duplicate-key check is quadratic in a mapping's size (80,000 keys took
// 16 s), and nothing else stops a runaway generator's file.
const (
	MaxFileBytes   = 4 << 20 // the whole file
	MaxMappingKeys = 1000    // keys of any one mapping
	MaxChecks      = 5000    // entries of checks:
)

// MaxFileExpansion bounds the whole file with its aliases resolved. Each
// check's block is bounded by yamlerr.MaxExpansion (the SDK applies the
// same bound to the block it receives); this bounds them together, so 5,000
// checks sharing one large anchor cannot add up to gigabytes either. A
// legitimate file of 5,000 checks of 50 values each is 250,000.
var MaxFileExpansion = yamlerr.Size{Nodes: 1_000_000, Bytes: 32 << 20}

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
	return checkAliases(path, &doc)
}

// checkAliases refuses alias expansion beyond the bounds, before anything
// expands an alias: a few hundred bytes of nested aliases (a "billion
// laughs") otherwise take minutes and gigabytes to expand into a check's
// block, and a reload carrying one killed the agent. It is a problem of the
// file, not of one check (the anchors may be anywhere in it), so the file
// is refused and a running agent keeps its configuration.
func checkAliases(path string, doc *yaml.Node) error {
	at := func(err error) error {
		var bomb *yamlerr.AliasBomb
		if errors.As(err, &bomb) {
			return fmt.Errorf("%s:%d: %v", path, bomb.Line, bomb)
		}
		return fmt.Errorf("%s: %v", path, err)
	}
	meter := yamlerr.NewAliasMeter()
	for _, block := range checkBlocks(doc) {
		if _, err := meter.Check(block, yamlerr.MaxExpansion); err != nil {
			return at(err)
		}
	}
	if _, err := meter.Check(doc, MaxFileExpansion); err != nil {
		return at(err)
	}
	return nil
}

// checkBlocks returns the `config:` value of every entry of `checks:`
// (through an alias, when an entry or a block is one).
func checkBlocks(doc *yaml.Node) []*yaml.Node {
	root := docRoot(doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "checks" {
			continue
		}
		for _, entry := range resolved(root.Content[i+1]).Content {
			entry = resolved(entry)
			for j := 0; j+1 < len(entry.Content); j += 2 {
				if entry.Content[j].Value == "config" {
					out = append(out, entry.Content[j+1])
				}
			}
		}
	}
	return out
}

// resolved follows an alias to its anchor (at most a few steps: an alias
// to an alias is not YAML).
func resolved(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
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
