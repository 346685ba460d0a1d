package config

import "gopkg.in/yaml.v3"

// checkPositions knows the line each entry of `checks:` starts at, and
// the line of each of its keys.
type checkPositions struct {
	starts []int
	keys   []map[string]int
	names  []string // each entry's `name:` as written
}

// name is check i's `name:` as written, or "".
func (p checkPositions) name(i int) string {
	if i < len(p.names) {
		return p.names[i]
	}
	return ""
}

func (p checkPositions) of(i int) int {
	if i < len(p.starts) {
		return p.starts[i]
	}
	return 0
}

// keyLine is the line of check i's key, or def if it has none.
func (p checkPositions) keyLine(i int, key string, def int) int {
	if i < len(p.keys) {
		if l, ok := p.keys[i][key]; ok {
			return l
		}
	}
	return def
}

// checkLines parses the config as a node tree, only for positions: the
// strict struct decode does not keep them.
func checkLines(b []byte) checkPositions {
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return checkPositions{}
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "checks" {
			var out checkPositions
			for _, c := range root.Content[i+1].Content {
				out.starts = append(out.starts, c.Line)
				keys, name := map[string]int{}, ""
				for j := 0; j+1 < len(c.Content); j += 2 {
					keys[c.Content[j].Value] = c.Content[j].Line
					if v := c.Content[j+1]; c.Content[j].Value == "name" && v.Kind == yaml.ScalarNode && name == "" {
						name = v.Value
					}
				}
				out.keys = append(out.keys, keys)
				out.names = append(out.names, name)
			}
			return out
		}
	}
	return checkPositions{}
}
