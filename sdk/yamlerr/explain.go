package yamlerr

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	typeMismatch = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `.*`)? into (\\S+)$") })
	unknownField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^field (\S+) not found in type .+$`) })
	lineKey      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*(?:-\s+)?([^\s:#{}\[\],"']+)\s*:`) })
)

// SplitIn is Split knowing what was decoded: src, the YAML text, and
// target, the Go value it was decoded into (nil if unknown). It puts a tab
// at its own line (yaml.v3 names the line before), says what a key's value
// must be in words instead of Go types (and without echoing the value,
// which may be a secret), and suggests the closest valid key for an
// unknown one.
func SplitIn(err error, src []byte, target any) []Problem {
	problems := Split(err)
	lines := bytes.Split(src, []byte("\n"))
	for i := range problems {
		p := &problems[i]
		msg := rawMsg(err, i, p.Msg)
		switch {
		case strings.Contains(msg, "found a tab character"):
			p.Line = tabLine(lines, p.Line)
			p.Msg = "found a tab character in the indentation: use spaces to indent YAML, not tabs"
		case typeMismatch().MatchString(msg):
			sub := typeMismatch().FindStringSubmatch(msg)
			p.Msg = fmt.Sprintf("%s must be %s", keyOn(lines, p.Line), describeType(sub[2]))
		case unknownField().MatchString(msg):
			key := unknownField().FindStringSubmatch(msg)[1]
			p.Msg = unknownKeyMsg(key, validKeys(src, target, p.Line, key))
		}
	}
	return problems
}

// rawMsg is yaml's own wording of problem i (before reword).
func rawMsg(err error, i int, fallback string) string {
	var te *yaml.TypeError
	if asTypeError(err, &te) && i < len(te.Errors) {
		m := te.Errors[i]
		if sub := linePrefix().FindStringSubmatch(m); sub != nil {
			return m[len(sub[0]):]
		}
		return m
	}
	msg := err.Error()
	if sub := linePrefix().FindStringSubmatch(msg); sub != nil {
		return msg[len(sub[0]):]
	}
	return fallback
}

// tabLine is the first line from reported on (1-based) whose indentation
// holds a tab; reported if none does.
func tabLine(lines [][]byte, reported int) int {
	for n := max(reported, 1); n <= len(lines) && n <= reported+2; n++ {
		l := lines[n-1]
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			return n
		}
	}
	return reported
}

// keyOn names the key on line n, or "the value" if none is found.
func keyOn(lines [][]byte, n int) string {
	if n < 1 || n > len(lines) {
		return "the value"
	}
	if sub := lineKey().FindSubmatch(lines[n-1]); sub != nil {
		return string(sub[1])
	}
	return "the value"
}

// describeType says in words what a Go type accepts.
func describeType(goType string) string {
	switch {
	case goType == "time.Duration":
		return "a duration such as 30s (a number needs a unit: ms, s, m or h)"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a single value (text), not a list or mapping"
	case strings.HasPrefix(goType, "[]"):
		return "a list (- item lines, or [a, b])"
	default:
		return "a mapping of settings (key: value lines)"
	}
}

func unknownKeyMsg(key string, valid []string) string {
	if best := closest(key, valid); best != "" {
		return fmt.Sprintf("unknown key %q: did you mean %q? (valid here: %s)", key, best, strings.Join(valid, ", "))
	}
	if len(valid) > 0 {
		return fmt.Sprintf("unknown key %q: not a setting here (valid here: %s; check its indentation)", key, strings.Join(valid, ", "))
	}
	return fmt.Sprintf("unknown key %q: not a setting here (check its spelling and indentation)", key)
}

// closest is the valid key nearest to key by edit distance, if near
// enough to be a typo (at most a third of its length, and at least 1).
func closest(key string, valid []string) string {
	best, bestD := "", max(len(key)/3, 2)+1
	for _, v := range valid {
		if d := EditDistance(key, v); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// EditDistance is Levenshtein's distance between a and b (bytes), for
// "did you mean" suggestions.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// validKeys walks src's node tree beside target's Go type to the mapping
// holding key at line, and returns the keys that Go type accepts there.
func validKeys(src []byte, target any, line int, key string) []string {
	if target == nil {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	return keysAt(doc.Content[0], reflect.TypeOf(target), line, key)
}

var nodeType = reflect.TypeOf(yaml.Node{})

func keysAt(n *yaml.Node, t reflect.Type, line int, key string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType || n == nil {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode && t != reflect.TypeOf(time.Time{}):
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line && k.Value == key {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				sort.Strings(names)
				return names
			}
			if ft, ok := fields[k.Value]; ok {
				if got := keysAt(v, ft, line, key); got != nil {
					return got
				}
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			if got := keysAt(c, t.Elem(), line, key); got != nil {
				return got
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if got := keysAt(n.Content[i], t.Elem(), line, key); got != nil {
				return got
			}
		}
	}
	return nil
}

// structFields maps the YAML keys of struct t (inline structs flattened)
// to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range structFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}
