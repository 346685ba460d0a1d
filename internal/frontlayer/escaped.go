package frontlayer

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// replaceEscaped replaces every occurrence of secret in s, each character
// written as itself or in any JSON (\uXXXX, \/, \"), HTML (&amp;, &#34;,
// &#x22;) or URL (%XX, +) escape, with "<secret>".
//
// It finds what a regexp of those forms finds (the leftmost match, and
// there the one a backtracking matcher trying the forms in order takes;
// the test holds it to that regexp) without compiling one per secret: such
// a regexp is 50-100 KB, and whmcs and freepbx kept one per secret for the
// life of the process, with the matching machines to run it (0.35 MB live
// in whmcs).
func replaceEscaped(s, secret string) string {
	m := newEscapedMatcher(secret, s)
	var b strings.Builder
	done := 0 // s[:done] is written to b
	for i := 0; i < len(s); {
		if end, ok := m.from(i); ok {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[done:i])
			b.WriteString("<secret>")
			done, i = end, end
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// escapedMatcher matches a secret's characters, each in any of its forms,
// at positions of text. Only '\\', '%' and '&' have two forms that can
// match at one place (the character itself, and an escape beginning with
// it); without them each start is one path, at most len(secret) steps.
// With them, where the rest of the secret cannot match is remembered
// (failed: a bit per position and index), so a hostile text costs at most
// len(text) × len(secret) × forms steps, not one per way to split it.
type escapedMatcher struct {
	secret    []rune
	chars     []*charForms // the forms of secret[k], made when first needed
	text      string
	ambiguous bool
	failed    []uint64
}

func newEscapedMatcher(secret, text string) *escapedMatcher {
	runes := []rune(secret)
	return &escapedMatcher{secret: runes, chars: make([]*charForms, len(runes)), text: text,
		ambiguous: strings.ContainsAny(secret, `\%&`)}
}

// failedAt says whether the secret from k on is known not to match at i.
func (m *escapedMatcher) failedAt(i, k int) bool {
	if m.failed == nil {
		return false
	}
	bit := i*len(m.secret) + k
	return m.failed[bit/64]&(1<<(bit%64)) != 0
}

func (m *escapedMatcher) setFailed(i, k int) {
	if m.failed == nil {
		m.failed = make([]uint64, ((len(m.text)+1)*len(m.secret)+63)/64)
	}
	bit := i*len(m.secret) + k
	m.failed[bit/64] |= 1 << (bit % 64)
}

// from returns the end of the match of the whole secret at i.
func (m *escapedMatcher) from(i int) (int, bool) { return m.rest(i, 0) }

// rest matches the secret's characters from k on at position i, trying
// each character's forms in order and backtracking to the next form when
// the rest does not match.
func (m *escapedMatcher) rest(i, k int) (int, bool) {
	if k == len(m.secret) {
		return i, true
	}
	s := m.text[i:]
	if s == "" || !mayBegin(s[0], m.secret[k]) || m.failedAt(i, k) {
		return 0, false
	}
	if m.chars[k] == nil {
		m.chars[k] = formsOf(m.secret[k])
	}
	c := m.chars[k]
	for f := 0; f < c.count(); f++ {
		if n, ok := c.match(f, s); ok {
			if end, ok := m.rest(i+n, k+1); ok {
				return end, true
			}
		}
	}
	if m.ambiguous && k > 0 { // each position is tried once for the first character
		m.setFailed(i, k)
	}
	return 0, false
}

// mayBegin says whether a form of r may begin with the byte b: r's own
// first byte, an escape's, or any byte not ASCII (an invalid byte reads as
// U+FFFD). Most of any text is turned away here.
func mayBegin(b byte, r rune) bool {
	if b >= utf8.RuneSelf || b == '\\' || b == '%' || b == '&' || b == '+' {
		return true
	}
	var buf [utf8.UTFMax]byte
	utf8.EncodeRune(buf[:], r)
	return b == buf[0]
}

// charForms are the ways one character r may be written, in the order a
// regexp's alternation held them: r itself; \uXXXX for each UTF-16 unit;
// %XX for each UTF-8 byte; &#NN; and &#xNN; with any leading zeros; below
// 256 also its one byte as %XX or \xNN; JSON's \/ \" \\, + for a space,
// HTML's named references. Hex digits match in either case, nothing else
// does (but the x of &#x).
type charForms struct {
	r       rune
	hexed   []string // \u... and %... (hex digits fold)
	dec     string   // digits of &#NN;
	hexRef  string   // digits of &#xNN;
	literal []string // Latin-1's %XX and \xNN (hex digits fold), then the exact ones
}

func formsOf(r rune) *charForms {
	c := &charForms{r: r, dec: strconv.Itoa(int(r)), hexRef: strconv.FormatInt(int64(r), 16)}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	var units, pct strings.Builder
	for _, u := range utf16.Encode([]rune{r}) {
		units.WriteString(`\u` + hex(int(u), 4))
	}
	for _, b := range buf[:n] {
		pct.WriteString("%" + hex(int(b), 2))
	}
	c.hexed = []string{units.String(), pct.String()}
	if r >= 0x80 && r <= 0xFF {
		c.literal = append(c.literal, "%"+hex(int(r), 2), `\x`+hex(int(r), 2))
	}
	switch r {
	case '/', '"', '\\':
		c.literal = append(c.literal, `\`+string(r))
	case ' ':
		c.literal = append(c.literal, "+")
	case '&':
		c.literal = append(c.literal, "&amp;")
	case '<':
		c.literal = append(c.literal, "&lt;")
	case '>':
		c.literal = append(c.literal, "&gt;")
	case '\'':
		c.literal = append(c.literal, "&apos;")
	}
	if r == '"' {
		c.literal = append(c.literal, "&quot;")
	}
	return c
}

// count is how many forms c has: r, the two hexed ones, the two
// references, then the Latin-1 and literal ones.
func (c *charForms) count() int { return 5 + len(c.literal) }

// match says whether s begins with form f of c, and how long it is.
func (c *charForms) match(f int, s string) (int, bool) {
	switch f {
	case 0:
		got, n := utf8.DecodeRuneInString(s) // an invalid byte reads as U+FFFD, as in a regexp
		return n, got == c.r
	case 1, 2:
		return hasHexPrefix(s, c.hexed[f-1])
	case 3:
		rest, ok := strings.CutPrefix(s, "&#")
		if !ok {
			return 0, false
		}
		return refDigits(s, rest, c.dec)
	case 4:
		rest, ok := strings.CutPrefix(s, "&#")
		if !ok || rest == "" || rest[0] != 'x' && rest[0] != 'X' {
			return 0, false
		}
		return refDigits(s, rest[1:], c.hexRef)
	}
	lit := c.literal[f-5]
	if c.r >= 0x80 && c.r <= 0xFF && f-5 < 2 {
		return hasHexPrefix(s, lit) // Latin-1's %XX and \xNN
	}
	if strings.HasPrefix(s, lit) {
		return len(lit), true
	}
	return 0, false
}

// refDigits matches the zeros and digits of a numeric reference, then ';',
// in rest (what follows "&#" or "&#x" in s), and returns the length in s.
// The zeros are taken greedily and given back one at a time, as a
// regexp's 0* before the digits is.
func refDigits(s, rest, digits string) (int, bool) {
	zeros := len(rest) - len(strings.TrimLeft(rest, "0"))
	for z := zeros; z >= 0; z-- {
		if n, ok := hasHexPrefix(rest[z:], digits+";"); ok {
			return len(s) - len(rest) + z + n, true
		}
	}
	return 0, false
}

// hasHexPrefix says whether s begins with want (lower case), where an
// upper-case hex digit A-F in s stands for its lower-case one.
func hasHexPrefix(s, want string) (int, bool) {
	if len(s) < len(want) {
		return 0, false
	}
	for j := 0; j < len(want); j++ {
		c := s[j]
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		if c != want[j] {
			return 0, false
		}
	}
	return len(want), true
}

// hex is v in lower-case hex, zero-padded to width digits.
func hex(v, width int) string {
	h := strconv.FormatInt(int64(v), 16)
	return strings.Repeat("0", max(0, width-len(h))) + h
}
