package config

import "gopkg.in/yaml.v3"

// checkPositions knows the line each entry of `checks:` starts at.
type checkPositions []int

func (p checkPositions) of(i int) int {
	if i < len(p) {
		return p[i]
	}
	return 0
}

// checkLines parses the config as a node tree, only for positions: the
// strict struct decode does not keep them.
func checkLines(b []byte) checkPositions {
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "checks" {
			var out checkPositions
			for _, c := range root.Content[i+1].Content {
				out = append(out, c.Line)
			}
			return out
		}
	}
	return nil
}
