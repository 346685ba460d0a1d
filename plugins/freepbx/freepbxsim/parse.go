package freepbxsim

import (
	"fmt"
	"strings"
)

// A tiny GraphQL reader: one operation, fields with aliases, arguments
// (skipped) and nested selection sets. It is enough for probe queries and
// reports positions the way graphql-php does (1-based line and column).

type document struct {
	operation string
	loc       gqlLocation
	fields    []*field
}

type field struct {
	alias, name string
	loc         gqlLocation
	sel         []*field
}

func (f *field) responseKey() string {
	if f.alias != "" {
		return f.alias
	}
	return f.name
}

type token struct {
	kind string // "name", "punct", "string", "number", "eof"
	text string
	loc  gqlLocation
}

type parser struct {
	toks []token
	pos  int
}

func parseQuery(src string) (*document, *gqlError) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	doc := &document{operation: "query", loc: p.peek().loc}
	if t := p.peek(); t.kind == "name" && (t.text == "query" || t.text == "mutation" || t.text == "subscription") {
		doc.operation = t.text
		p.pos++
		if p.peek().kind == "name" {
			p.pos++
		}
		if p.peek().text == "(" {
			if err := p.skipParens(); err != nil {
				return nil, err
			}
		}
	}
	fields, err := p.selectionSet()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, syntaxError(t, "Unexpected "+describe(t))
	}
	doc.fields = fields
	return doc, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) selectionSet() ([]*field, *gqlError) {
	if t := p.peek(); t.text != "{" {
		return nil, syntaxError(t, "Expected {, found "+describe(t))
	}
	p.pos++
	var out []*field
	for {
		t := p.peek()
		if t.text == "}" {
			p.pos++
			if len(out) == 0 {
				return nil, syntaxError(t, "Expected Name, found }")
			}
			return out, nil
		}
		if t.kind != "name" {
			return nil, syntaxError(t, "Expected Name, found "+describe(t))
		}
		p.pos++
		f := &field{name: t.text, loc: t.loc}
		if p.peek().text == ":" {
			p.pos++
			n := p.peek()
			if n.kind != "name" {
				return nil, syntaxError(n, "Expected Name, found "+describe(n))
			}
			p.pos++
			f.alias, f.name, f.loc = t.text, n.text, n.loc
		}
		if p.peek().text == "(" {
			if err := p.skipParens(); err != nil {
				return nil, err
			}
		}
		if p.peek().text == "{" {
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			f.sel = sel
		}
		out = append(out, f)
	}
}

func (p *parser) skipParens() *gqlError {
	depth := 0
	for {
		t := p.peek()
		switch {
		case t.kind == "eof":
			return syntaxError(t, "Expected ), found <EOF>")
		case t.text == "(":
			depth++
		case t.text == ")":
			depth--
		}
		p.pos++
		if depth == 0 {
			return nil
		}
	}
}

func describe(t token) string {
	if t.kind == "eof" {
		return "<EOF>"
	}
	if t.kind == "name" {
		return fmt.Sprintf("Name %q", t.text)
	}
	return t.text
}

func syntaxError(t token, msg string) *gqlError {
	return &gqlError{Message: "Syntax Error: " + msg, Locations: []gqlLocation{t.loc}}
}

func lex(src string) ([]token, *gqlError) {
	var toks []token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n; k++ {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		loc := gqlLocation{Line: line, Column: col}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			adv(1)
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case isNameStart(c):
			j := i
			for j < len(src) && (isNameStart(src[j]) || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks = append(toks, token{"name", src[i:j], loc})
			adv(j - i)
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && strings.IndexByte("0123456789.eE+-", src[j]) >= 0 {
				j++
			}
			toks = append(toks, token{"number", src[i:j], loc})
			adv(j - i)
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) || src[j] != '"' {
				return nil, &gqlError{Message: "Syntax Error: Unterminated string.", Locations: []gqlLocation{loc}}
			}
			toks = append(toks, token{"string", src[i : j+1], loc})
			adv(j + 1 - i)
		case strings.IndexByte("{}():!$=[]@", c) >= 0:
			toks = append(toks, token{"punct", string(c), loc})
			adv(1)
		default:
			return nil, &gqlError{Message: fmt.Sprintf("Syntax Error: Cannot parse the unexpected character %q.", string(c)), Locations: []gqlLocation{loc}}
		}
	}
	return append(toks, token{"eof", "", gqlLocation{Line: line, Column: col}}), nil
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
