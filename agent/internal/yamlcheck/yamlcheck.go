// Package yamlcheck reports validation problems of a block decoded with a
// func-style UnmarshalYAML as yaml.v3 reports its own: "line N: msg" inside
// a *yaml.TypeError, which the config loader turns into "file:N: msg".
// (The alerting package has its own copy of this from before; new blocks
// use this one.)
package yamlcheck

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Problems collects one block's validation errors with the lines of the
// offending keys.
type Problems struct {
	node *yaml.Node
	msgs []string
}

// New captures the node being decoded, for its lines. Call it from a
// func-style UnmarshalYAML with that method's unmarshal argument.
func New(unmarshal func(any) error) *Problems {
	var c nodeCatcher
	if err := unmarshal(&c); err != nil || c.node == nil {
		return &Problems{node: &yaml.Node{}}
	}
	return &Problems{node: c.node}
}

// nodeCatcher keeps the node it is decoded from (decoding into a yaml.Node
// through the func-style unmarshal would decode the mapping into the
// Node's fields instead).
type nodeCatcher struct{ node *yaml.Node }

func (c *nodeCatcher) UnmarshalYAML(n *yaml.Node) error { c.node = n; return nil }

// Add records a problem of key (the line is the key's, or the block's when
// the key is absent).
func (p *Problems) Add(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.node != nil {
		msg = fmt.Sprintf("line %d: %s", p.Line(key), msg)
	}
	p.msgs = append(p.msgs, msg)
}

// Nested keeps the problems of the block's own children, which yaml.v3
// reported before the block's validation ran.
func (p *Problems) Nested(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	p.msgs = append(p.msgs, te.Errors...)
	return nil
}

// Line is where key sits in the mapping, or where the mapping starts.
func (p *Problems) Line(key string) int {
	if p.node == nil {
		return 0
	}
	for i := 0; i+1 < len(p.node.Content); i += 2 {
		if p.node.Content[i].Value == key {
			return p.node.Content[i].Line
		}
	}
	return p.node.Line
}

// Err is nil without problems, else a *yaml.TypeError holding them all.
func (p *Problems) Err() error {
	if len(p.msgs) == 0 {
		return nil
	}
	return &yaml.TypeError{Errors: p.msgs}
}
