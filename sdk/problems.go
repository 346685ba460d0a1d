package sdk

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Problems collects what is wrong with one mapping of a config block, each
// problem at the line of the key it is about. It is the one way to say
// "this key is wrong" in pbxwatch: the plugins, the SDK's template and the
// agent's own config blocks use it alike.
//
// Make one in the config type's func-style UnmarshalYAML (that form keeps
// Config.Decode strict about unknown keys), add a problem per finding, and
// return Err:
//
//	func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
//		*c = config{WarnDays: 21}
//		type plain config
//		if err := unmarshal((*plain)(c)); err != nil {
//			return err
//		}
//		p := sdk.NewProblems(unmarshal)
//		if c.WarnDays < 0 {
//			p.Add("warn_days", "warn_days must not be negative: give how many days before expiry to warn")
//		}
//		return p.Err()
//	}
//
// Config.Decode then names each problem as FILE:LINE of the agent's config
// file, and reports all of them at once, beside yaml's own.
//
// The zero value collects problems of a value built in Go (no lines).
type Problems struct {
	node *yaml.Node // the mapping; nil when not decoded from YAML
	msgs *[]string  // shared with the Problems In returns
}

// NewProblems starts the problems of the mapping being decoded; unmarshal
// is the argument of a func-style UnmarshalYAML.
func NewProblems(unmarshal func(any) error) *Problems {
	var c nodeCatcher
	_ = unmarshal(&c) // a nodeCatcher accepts any node
	if c.node == nil {
		c.node = &yaml.Node{}
	}
	return &Problems{node: c.node, msgs: new([]string)}
}

// nodeCatcher keeps the node it is decoded from: decoding into a yaml.Node
// through a func-style unmarshal would decode the mapping into the Node's
// fields instead.
type nodeCatcher struct{ node *yaml.Node }

func (c *nodeCatcher) UnmarshalYAML(n *yaml.Node) error { c.node = n; return nil }

// Add records a problem of key. It is placed at the key's line, or, for a
// key the mapping does not hold (a required one that is missing), at the
// mapping's first line. The message should name the key and the fix.
func (p *Problems) Add(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l := p.Line(key); l > 0 {
		msg = fmt.Sprintf("line %d: %s", l, msg)
	}
	p.add(msg)
}

func (p *Problems) add(msg string) {
	if p.msgs == nil {
		p.msgs = new([]string)
	}
	*p.msgs = append(*p.msgs, msg)
}

// Nested keeps the problems yaml.v3 found while decoding the mapping's
// values (a wrong type, an unknown key in a nested block), so that the
// mapping's own validation can still run and every problem is reported at
// once. It returns err when err is something else (a syntax error), nil
// otherwise:
//
//	if err := p.Nested(unmarshal((*plain)(c))); err != nil {
//		return err
//	}
func (p *Problems) Nested(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	for _, m := range te.Errors {
		p.add(m)
	}
	return nil
}

// Has reports whether the mapping holds key.
func (p *Problems) Has(key string) bool {
	k, _ := p.pair(key)
	return k != nil
}

// Line is the line of key in the mapping, or the mapping's own first line
// when it does not hold key; 0 when the value was not decoded from YAML.
func (p *Problems) Line(key string) int {
	if k, _ := p.pair(key); k != nil {
		return k.Line
	}
	if p.node == nil {
		return 0
	}
	return p.node.Line
}

// In returns the problems of a mapping nested in this one: the value of
// key when index is negative, else entry index of the sequence at key. A
// problem added to it is reported with this one's, at the nested key's
// line; where the nested mapping or its key is absent, at the closest line
// that exists.
func (p *Problems) In(key string, index int) *Problems {
	if p.msgs == nil {
		p.msgs = new([]string)
	}
	child := &Problems{msgs: p.msgs}
	if p.node == nil {
		return child
	}
	_, v := p.pair(key)
	if v != nil && index >= 0 {
		if v.Kind == yaml.SequenceNode && index < len(v.Content) {
			v = v.Content[index]
		} else {
			v = nil
		}
	}
	if v == nil || v.Kind != yaml.MappingNode {
		// No such mapping: its problems go to the key, or to this mapping.
		child.node = &yaml.Node{Kind: yaml.MappingNode, Line: p.Line(key)}
		if v != nil {
			child.node.Line = v.Line
		}
		return child
	}
	child.node = v
	return child
}

// Err returns nil without problems. Otherwise, decoded from YAML, a
// *yaml.TypeError holding them all, which yaml.v3 merges into its own list
// so that a nested block's problems and the outer block's come out
// together, each with its line; built in Go, the problems joined.
func (p *Problems) Err() error {
	if p.msgs == nil || len(*p.msgs) == 0 {
		return nil
	}
	if p.node != nil {
		return &yaml.TypeError{Errors: append([]string(nil), *p.msgs...)}
	}
	errs := make([]error, len(*p.msgs))
	for i, m := range *p.msgs {
		errs[i] = errors.New(m)
	}
	return errors.Join(errs...)
}

// pair is the key and value nodes of key in the mapping, nil if absent.
func (p *Problems) pair(key string) (k, v *yaml.Node) {
	if p.node == nil || p.node.Kind != yaml.MappingNode || key == "" {
		return nil, nil
	}
	for i := 0; i+1 < len(p.node.Content); i += 2 {
		if p.node.Content[i].Value == key {
			return p.node.Content[i], p.node.Content[i+1]
		}
	}
	return nil, nil
}
