package logtail

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"slices"
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
	// passes is how many of the matcher's passes find its literals: with
	// more than one, its hits arrive out of order and are sorted.
	passes int
}

// matcher finds the lines that match any pattern. Like grep, it searches
// for required literals across a whole buffer of lines and runs a
// pattern's regexp only on the lines the literal search turned up.
//
// The search is one IndexByte pass (SIMD, many GB/s while the byte is
// rare) per anchor byte, not per literal: literals that share a rare byte
// ('A' of "Authentication failure for ", "Asterisk Manager unreachable"
// and "SQLSTATE[") are all compared at each stop of one pass. What a pass
// costs is mostly its stops (about 20 ns each here, an IndexByte call)
// plus the pass itself (about 7 µs per 256 KiB), so plan chooses the
// anchors by the data's byte frequencies.
type matcher struct {
	pats   []pattern
	passes []pass
	// hits holds, per pattern, the end of the first literal occurrence of
	// each line of the current buffer where one of its literals occurs
	// (one per line and pass); lineEnd, during a pass, the end of the line
	// of its last hit.
	hits    [][]int
	lineEnd []int
	// calibrated is set once the literals and anchors were chosen from
	// the byte frequencies of real data.
	calibrated bool
}

// literal is a string the prefilter looks for.
type literal struct {
	b []byte
}

// pass is one IndexByte search for an anchor byte and the literals
// compared where it occurs.
type pass struct {
	anchor byte
	lits   []anchored
}

// anchored is a literal in a pass: at is the index of the pass's anchor
// byte in b, check that of another byte compared before the whole literal
// (its rarest other byte: most stops fail on it).
type anchored struct {
	b         []byte
	at, check int
	pats      []int // the patterns that need it
}

// hitCap is the hits kept allocated between buffers per pattern: a flood
// of matches grows a pattern's hit list to the lines of one buffer; it is
// let go afterwards rather than kept for the life of the check.
const hitCap = 4096

// calibrate chooses, from the byte frequencies of sample, each pattern's
// literal set and the passes that find them.
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
			n += freq[rarest([]byte(s), &freq, -1)]
		}
		return n
	}
	for i := range m.pats {
		p := &m.pats[i]
		if p.tree != nil {
			p.lits = literals(pickLiterals(p.tree, stops))
		}
	}
	m.plan(&freq, len(sample)/bytesPerStop)
	m.calibrated = true
}

// bytesPerStop is how many bytes an IndexByte pass crosses in the time
// one stop costs (measured: about 7 µs per 256 KiB pass, 20 ns a stop),
// to weigh a pass against the stops it saves.
const bytesPerStop = 800

// priorFreq stands for the data before calibration (a short first read),
// as occurrences in 64 KiB of log text: spaces, lower-case letters and
// digits common, upper-case letters and punctuation rare.
var priorFreq = func() (f [256]int) {
	for c := range f {
		switch {
		case c == ' ':
			f[c] = 8000
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			f[c] = 2000
		case c >= 0x21 && c < 0x7f:
			f[c] = 200
		default:
			f[c] = 20
		}
	}
	return f
}()

// rarest returns the byte of b least frequent in freq, other than the one
// at index skip.
func rarest(b []byte, freq *[256]int, skip int) byte {
	best := -1
	for j, c := range b {
		if j != skip && (best < 0 || freq[c] < freq[b[best]]) {
			best = j
		}
	}
	return b[best]
}

// plan groups the patterns' literals into passes: greedily, the anchor
// byte of least cost per literal it finds, where a byte costs a pass plus
// a stop at each of its occurrences (freq, counted over a sample worth
// passCost stops of passing).
func (m *matcher) plan(freq *[256]int, passCost int) {
	type need struct {
		b    []byte
		pats []int
	}
	var needs []*need // every distinct literal, once
	byText := map[string]*need{}
	for i := range m.pats {
		m.pats[i].passes = 0
		for _, l := range m.pats[i].lits {
			n := byText[string(l.b)]
			if n == nil {
				n = &need{b: l.b}
				byText[string(l.b)] = n
				needs = append(needs, n)
			}
			if !slices.Contains(n.pats, i) {
				n.pats = append(n.pats, i)
			}
		}
	}
	m.passes = nil
	for len(needs) > 0 {
		anchor, bestCost, bestFound := 0, 0, 0
		for c := 0; c < 256; c++ {
			found := 0
			for _, n := range needs {
				if bytes.IndexByte(n.b, byte(c)) >= 0 {
					found++
				}
			}
			if found == 0 {
				continue
			}
			// cost/found < bestCost/bestFound, without division
			if cost := passCost + freq[c]; bestFound == 0 || cost*bestFound < bestCost*found {
				anchor, bestCost, bestFound = c, cost, found
			}
		}
		ps := pass{anchor: byte(anchor)}
		rest := needs[:0]
		for _, n := range needs {
			at := bytes.IndexByte(n.b, byte(anchor))
			if at < 0 {
				rest = append(rest, n)
				continue
			}
			check := bytes.IndexByte(n.b, rarest(n.b, freq, at))
			if check == at { // a one-byte alphabet ("aaa"): any index will do
				check = (at + 1) % len(n.b)
			}
			ps.lits = append(ps.lits, anchored{b: n.b, at: at, check: check, pats: n.pats})
			for _, i := range n.pats {
				m.pats[i].passes++
			}
		}
		needs = rest
		m.passes = append(m.passes, ps)
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
	}
	m.hits = make([][]int, len(m.pats))
	m.lineEnd = make([]int, len(m.pats))
	m.plan(&priorFreq, 64<<10/bytesPerStop)
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

// scan reports every line of buf matching each pattern, pattern by
// pattern and each pattern's lines in order. buf holds whole lines, each
// ending in '\n'; only the first max bytes of a line count.
func (m *matcher) scan(buf []byte, max int, found matchFunc) {
	if !m.calibrated && len(buf) >= 64<<10 {
		m.calibrate(buf)
	}
	for i := range m.hits {
		m.hits[i] = m.hits[i][:0]
	}
	for k := range m.passes {
		m.search(&m.passes[k], buf)
	}
	for i := range m.pats {
		if m.pats[i].lits == nil {
			m.scanLines(i, buf, max, found)
		} else {
			m.checkHits(i, buf, max, found)
		}
		if cap(m.hits[i]) > hitCap {
			m.hits[i] = nil
		}
	}
}

// search makes one pass over buf for ps's anchor byte and records, for
// every pattern, the lines where one of its literals occurs.
func (m *matcher) search(ps *pass, buf []byte) {
	for i := range m.lineEnd {
		m.lineEnd[i] = -1
	}
	for pos := 0; pos < len(buf); {
		j := bytes.IndexByte(buf[pos:], ps.anchor)
		if j < 0 {
			return
		}
		h := pos + j
		pos = h + 1
		for k := range ps.lits {
			l := &ps.lits[k]
			p := h - l.at
			if p < 0 || p+len(l.b) > len(buf) || buf[p+l.check] != l.b[l.check] || !bytes.Equal(buf[p:p+len(l.b)], l.b) {
				continue
			}
			m.record(l.pats, buf, p+len(l.b))
		}
	}
}

// record notes a literal occurrence ending at end for pats: one hit per
// line and pass, the occurrence that ends first. A pass's stops come in
// order, so a later stop is in the same line or a later one; but within a
// line a shorter literal found later may end first.
func (m *matcher) record(pats []int, buf []byte, end int) {
	for _, i := range pats {
		if end <= m.lineEnd[i] {
			if last := len(m.hits[i]) - 1; end < m.hits[i][last] {
				m.hits[i][last] = end
			}
			continue
		}
		m.hits[i] = append(m.hits[i], end)
		m.lineEnd[i] = lineEnd(buf, end)
	}
}

// lineEnd is the index of the newline ending the line that holds buf[at-1].
func lineEnd(buf []byte, at int) int {
	if j := bytes.IndexByte(buf[at:], '\n'); j >= 0 {
		return at + j
	}
	return len(buf)
}

// checkHits reports the lines of pattern i's hits that match it. A line
// counts when a literal occurrence lies within its first max bytes (a cut
// line without one cannot match) and the regexp matches the cut line.
func (m *matcher) checkHits(i int, buf []byte, max int, found matchFunc) {
	p := &m.pats[i]
	hits := m.hits[i]
	if p.passes > 1 {
		slices.Sort(hits)
	}
	decided := -1 // end of the last line looked at
	for _, e := range hits {
		if e <= decided {
			continue // a later occurrence in a line already looked at
		}
		start := bytes.LastIndexByte(buf[:e], '\n') + 1
		end := lineEnd(buf, e)
		decided = end
		line := buf[start:end]
		if len(line) > max {
			line = line[:max]
		}
		if e > start+len(line) {
			continue // the line's first occurrence lies past the cut
		}
		if p.pure || p.re.Match(line) {
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
