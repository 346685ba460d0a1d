package yamlerr

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Size is what a YAML tree amounts to with every alias resolved: its nodes
// and the bytes of its scalars.
type Size struct {
	Nodes int64
	Bytes int64
}

// exceeds reports whether s is over max in either measure.
func (s Size) exceeds(max Size) bool { return s.Nodes > max.Nodes || s.Bytes > max.Bytes }

// add sums two sizes, saturating far above any bound instead of
// overflowing (nine levels of nine aliases are 9^9 nodes; ninety levels
// are beyond int64).
func (s Size) add(o Size) Size {
	const ceiling = 1 << 60
	return Size{Nodes: min(s.Nodes+o.Nodes, ceiling), Bytes: min(s.Bytes+o.Bytes, ceiling)}
}

// MaxExpansion bounds one config block with its aliases resolved: far more
// than a hand-written block (the shipped examples are under 100 nodes), far
// less than the "billion laughs" a few hundred bytes of nested aliases
// become. A block beyond it is refused before anything expands it.
var MaxExpansion = Size{Nodes: 100_000, Bytes: 4 << 20}

// AliasBomb is a YAML tree whose aliases expand beyond a bound. Line is the
// alias at which the expansion crossed it (or the recursive alias).
type AliasBomb struct {
	Line      int
	Alias     string
	Recursive bool
	Max       Size
}

func (e *AliasBomb) Error() string {
	if e.Recursive {
		return fmt.Sprintf("alias *%s is recursive (it refers to a node that holds it): use a plain value", e.Alias)
	}
	return fmt.Sprintf("alias *%s takes this to more than %d values or %d MiB once aliases are resolved (nested aliases multiply: an alias bomb?); write the values out or use fewer aliases", e.Alias, e.Max.Nodes, e.Max.Bytes>>20)
}

// CheckAliases measures n with its aliases resolved, without resolving
// them (each anchor is measured once, so the time is linear in the text),
// and returns its size, or an *AliasBomb when the expansion exceeds max or
// an alias is recursive. The error names the alias where the running
// total, in document order, crossed the bound.
func CheckAliases(n *yaml.Node, max Size) (Size, error) {
	return NewAliasMeter().Check(n, max)
}

// NewAliasMeter returns an AliasMeter for the trees of one document.
func NewAliasMeter() *AliasMeter {
	return &AliasMeter{memo: map[*yaml.Node]Size{}, open: map[*yaml.Node]bool{}}
}

// Check is CheckAliases remembering the anchors it measured, so that many
// subtrees of one document aliasing one anchor measure it once.
func (m *AliasMeter) Check(n *yaml.Node, max Size) (Size, error) {
	var total Size
	err := m.walk(n, &total, max)
	return total, err
}

// AliasMeter measures trees of one document with their aliases resolved.
type AliasMeter struct {
	memo map[*yaml.Node]Size
	open map[*yaml.Node]bool // nodes being measured: meeting one again is recursion
}

// walk adds n to total in document order, measuring each alias as the
// whole tree it stands for.
func (m *AliasMeter) walk(n *yaml.Node, total *Size, max Size) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		s, err := m.size(n)
		if err != nil {
			return err
		}
		*total = total.add(s)
		if total.exceeds(max) {
			return &AliasBomb{Line: n.Line, Alias: n.Value, Max: max}
		}
		return nil
	}
	*total = total.add(Size{Nodes: 1, Bytes: int64(len(n.Value))})
	m.open[n] = true
	defer delete(m.open, n)
	for _, c := range n.Content {
		if err := m.walk(c, total, max); err != nil {
			return err
		}
	}
	return nil
}

// size is n's expanded size, memoised per node.
func (m *AliasMeter) size(n *yaml.Node) (Size, error) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || m.open[n.Alias] {
			return Size{}, &AliasBomb{Line: n.Line, Alias: n.Value, Recursive: true}
		}
		return m.size(n.Alias)
	}
	if s, ok := m.memo[n]; ok {
		return s, nil
	}
	m.open[n] = true
	defer delete(m.open, n)
	s := Size{Nodes: 1, Bytes: int64(len(n.Value))}
	for _, c := range n.Content {
		cs, err := m.size(c)
		if err != nil {
			return Size{}, err
		}
		s = s.add(cs)
	}
	m.memo[n] = s
	return s, nil
}
