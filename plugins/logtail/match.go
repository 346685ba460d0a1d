package main

import (
	"bytes"
	"regexp"
	"regexp/syntax"
)

// pattern is one compiled `patterns:` entry.
type pattern struct {
	cfg patternConfig
	re  *regexp.Regexp
	// lits is the prefilter: every match contains at least one of them.
	// nil means no literal is required and every line goes to re.
	lits []literal
	// pure means re matches exactly the lines containing lits[0], so the
	// regexp never needs to run.
	pure bool
	// tree is the parsed regexp, kept so calibrate can choose lits again
	// by the data's byte frequencies (nil when there is no choice).
	tree *syntax.Regexp
}

// matcher finds the lines that match any pattern. Like grep, it searches
// for required literals across a whole buffer of lines with bytes.Index
// (SIMD on amd64) and runs a pattern's regexp only on the lines the literal
// search turned up.
type matcher struct {
	pats []pattern
	// seen holds, per pattern with several literals, the line starts of the
	// current buffer already matched, so a line counts once per pattern.
	seen []map[int]struct{}
	// calibrated is set once the literals' anchors were chosen from the
	// byte frequencies of real data.
	calibrated bool
}

// literal is a string the prefilter looks for. Like grep and ripgrep, it
// searches for the literal's rarest byte with IndexByte (SIMD, many GB/s
// when the byte is rare) and compares the whole literal only where that
// byte occurs. Searching for the first byte instead ("a" of "ajaxRequest",
// " " of " to connect") stops at nearly every line.
type literal struct {
	b      []byte
	anchor int // index in b of its rarest byte
}

// index returns the position of l in s, or -1.
func (l *literal) index(s []byte) int {
	a, n := l.b[l.anchor], len(l.b)
	for i := l.anchor; i < len(s); {
		j := bytes.IndexByte(s[i:], a)
		if j < 0 {
			return -1
		}
		p := i + j - l.anchor
		if p+n > len(s) {
			return -1
		}
		if bytes.Equal(s[p:p+n], l.b) {
			return p
		}
		i += j + 1
	}
	return -1
}

// calibrate picks each literal's anchor: the byte least frequent in sample.
func (m *matcher) calibrate(sample []byte) {
	if len(sample) > 256<<10 {
		sample = sample[:256<<10]
	}
	var freq [256]int
	for _, c := range sample {
		freq[c]++
	}
	// A literal set costs as many stops as its anchors occur in the data:
	// "(Unable|Failed) to connect to" is found faster by "Unable" and
	// "Failed" than by the longer " to connect to ", whose rarest byte
	// ('c') occurs every 60 bytes of a FreePBX log.
	stops := func(set []string) int {
		n := 0
		for _, s := range set {
			l := literal{b: []byte(s)}
			l.anchorRarest(&freq)
			n += freq[l.b[l.anchor]]
		}
		return n
	}
	for i := range m.pats {
		p := &m.pats[i]
		if p.tree != nil {
			p.lits = literals(pickLiterals(p.tree, stops))
		}
		for k := range p.lits {
			p.lits[k].anchorRarest(&freq)
		}
	}
	m.calibrated = true
}

// anchorRarest points l's anchor at its byte least frequent in freq.
func (l *literal) anchorRarest(freq *[256]int) {
	for j, c := range l.b {
		if freq[c] < freq[l.b[l.anchor]] {
			l.anchor = j
		}
	}
}

func literals(set []string) []literal {
	var ls []literal
	for _, s := range set {
		ls = append(ls, literal{b: []byte(s)})
	}
	return ls
}

// newMatcher compiles the patterns; config validation already vetted them.
func newMatcher(cfgs []patternConfig) (*matcher, error) {
	m := &matcher{}
	for _, c := range cfgs {
		re, err := regexp.Compile(c.Regex)
		if err != nil {
			return nil, err
		}
		p := pattern{cfg: c, re: re}
		if tree, err := syntax.Parse(c.Regex, syntax.Perl); err == nil {
			tree = tree.Simplify()
			p.lits = literals(requiredLiterals(tree))
			p.pure = len(p.lits) == 1 && tree.Op == syntax.OpLiteral && tree.Flags&syntax.FoldCase == 0
			if p.lits != nil && !p.pure {
				p.tree = tree
			}
		}
		m.pats = append(m.pats, p)
		m.seen = append(m.seen, nil)
	}
	return m, nil
}

// minLitLen is the shortest literal worth a prefilter pass; shorter ones
// hit too often to save work.
const minLitLen = 3

// requiredLiterals returns strings at least one of which every match of re
// contains, or nil when it cannot tell. It is conservative: nil is always
// a correct answer. Where there is a choice (the parts of a
// concatenation), the set whose shortest literal is longest wins: the
// fewest false hits when nothing is known of the data.
func requiredLiterals(re *syntax.Regexp) []string {
	return pickLiterals(re, func(set []string) int { return -shortest(set) })
}

// pickLiterals is requiredLiterals choosing, where there is a choice, the
// set of least cost.
func pickLiterals(re *syntax.Regexp, cost func([]string) int) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		s := string(re.Rune)
		if len(s) < minLitLen || bytes.IndexByte([]byte(s), '\n') >= 0 {
			return nil
		}
		return []string{s}
	case syntax.OpCapture:
		return pickLiterals(re.Sub[0], cost)
	case syntax.OpPlus:
		return pickLiterals(re.Sub[0], cost)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return pickLiterals(re.Sub[0], cost)
		}
	case syntax.OpConcat:
		// Any one child's set will do.
		var best []string
		bestCost := 0
		for _, sub := range re.Sub {
			set := pickLiterals(sub, cost)
			if set == nil {
				continue
			}
			if c := cost(set); best == nil || c < bestCost {
				best, bestCost = set, c
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			set := pickLiterals(sub, cost)
			if set == nil {
				return nil
			}
			all = append(all, set...)
		}
		return all
	}
	return nil
}

func shortest(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

// matchFunc receives a line (cut to max_line_bytes, without its newline)
// that matched pattern i.
type matchFunc func(i int, line []byte)

// scan reports every line of buf matching each pattern. buf holds whole
// lines, each ending in '\n'; only the first max bytes of a line count.
func (m *matcher) scan(buf []byte, max int, found matchFunc) {
	if !m.calibrated && len(buf) >= 64<<10 {
		m.calibrate(buf)
	}
	for i := range m.pats {
		p := &m.pats[i]
		if p.lits == nil {
			m.scanLines(i, buf, max, found)
			continue
		}
		if len(p.lits) > 1 {
			m.seen[i] = map[int]struct{}{}
		}
		for k := range p.lits {
			m.scanLiteral(i, &p.lits[k], buf, max, found)
		}
		m.seen[i] = nil
	}
}

// scanLiteral searches buf for lit and checks the lines it is found in.
func (m *matcher) scanLiteral(i int, lit *literal, buf []byte, max int, found matchFunc) {
	p := &m.pats[i]
	for pos := 0; pos < len(buf); {
		h := lit.index(buf[pos:])
		if h < 0 {
			return
		}
		h += pos
		start := bytes.LastIndexByte(buf[:h], '\n') + 1
		end := h + bytes.IndexByte(buf[h:], '\n') // lines end in '\n'
		pos = end + 1
		line := buf[start:end]
		if len(line) > max {
			line = line[:max]
		}
		if h+len(lit.b) > start+len(line) {
			// The first occurrence in this line lies past the cut, so the
			// cut line has none: not a match for this literal.
			continue
		}
		if m.seen[i] != nil {
			if _, dup := m.seen[i][start]; dup {
				continue
			}
		}
		if p.pure || p.re.Match(line) {
			if m.seen[i] != nil {
				m.seen[i][start] = struct{}{}
			}
			found(i, line)
		}
	}
}

// scanLines is the slow path for a pattern without a literal: its regexp
// runs on every line.
func (m *matcher) scanLines(i int, buf []byte, max int, found matchFunc) {
	re := m.pats[i].re
	for len(buf) > 0 {
		end := bytes.IndexByte(buf, '\n')
		line := buf[:end]
		buf = buf[end+1:]
		if len(line) > max {
			line = line[:max]
		}
		if re.Match(line) {
			found(i, line)
		}
	}
}

// matchLine checks one line against every pattern (for a line that did not
// come with a buffer: an overlong line's head, a rotated file's unfinished
// last line).
func (m *matcher) matchLine(line []byte, found matchFunc) {
	for i := range m.pats {
		p := &m.pats[i]
		if p.lits != nil && !containsAny(line, p.lits) {
			continue
		}
		if p.pure || p.re.Match(line) {
			found(i, line)
		}
	}
}

func containsAny(line []byte, lits []literal) bool {
	for _, l := range lits {
		if bytes.Contains(line, l.b) {
			return true
		}
	}
	return false
}
