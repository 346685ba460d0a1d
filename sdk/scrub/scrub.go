// Package scrub removes secrets from text on its way out of a process, in
// every form a secret takes when a server, a library or a log line has
// encoded it: raw, URL-encoded (%XX in either hex case, + for a space),
// JSON-escaped (\uXXXX, \"), HTML-escaped (&#NN;, &#xNN;, &amp;...), Go
// quoted (\xNN), Latin-1 (a byte, %XX or \xNN for each character below
// 256), any mix of those, base64 at any alignment (also inside HTTP Basic
// credentials "user:secret" and OAuth's client_secret_basic, base64 of the
// URL-encoded secret), and a prefix (seven characters or more, and more
// than half of a secret shorter than 14) followed by an ellipsis or cut off
// at the end of the text, also when the cut falls inside an escape. It
// also hides the password of any URL ("https://user:pw@host").
//
// The SDK runs every result, error and log line a plugin sends through one
// Set; the agent runs results, errors and its own log through another, filled
// with the values it expanded from ${ENV}.
package scrub

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Redacted replaces whatever was scrubbed.
const Redacted = "<secret>"

// MinLen is the shortest value a Set scrubs: replacing shorter ones would
// mangle ordinary text.
const MinLen = 4

// MinPrefix is the longest prefix of a secret that may be shown plus one:
// a prefix of seven characters or more, followed by an ellipsis or cut off
// at the end of the text, is scrubbed. Six characters are what plugins
// show on purpose as evidence (the whmcs plugin names an API identifier by
// its first six); see prefixLen for short secrets.
const MinPrefix = 7

// prefixLen is the shortest scrubbed prefix of a secret of n runes: seven
// characters, and for a secret shorter than 14 about half of it (three at
// least), so what may be shown is never more than half of the secret.
func prefixLen(n int) int { return max(3, min(MinPrefix, (n+1)/2)) }

// Set is a set of secret values. The zero value is empty and ready; a Set is
// safe for concurrent use.
type Set struct {
	mu      sync.RWMutex
	secrets map[string]*matcher
	order   []*matcher
}

// matcher holds the forms of one secret. Each regexp has a literal that
// any match holds (letters and digits pass through URL, JSON and HTML
// encoding unchanged), tested first: scrubbing text that holds no secret
// costs a few substring searches. The regexps are compiled the first time
// their literal turns up, not when the secret is added: a regexp of every
// encoding of every character is 50-100 KB per secret, and most secrets
// never meet text that holds even their literal (whmcs's three cost
// 0.43 MB of live heap in every process that loaded them).
type matcher struct {
	value       string
	encoded     lazyRegexp // the value, each character in any encoding
	encodedHint string
	prefix      *lazyRegexp // a cut-off prefix; nil for short values
	prefixHint  string
	lastBytes   string   // the last byte of each character of the value
	base64      []string // base64 runs any encoding of the value holds
}

// lazyRegexp is a regexp compiled from its source on first use.
type lazyRegexp struct {
	once   sync.Once
	source func() string
	re     *regexp.Regexp
}

func (l *lazyRegexp) get() *regexp.Regexp {
	l.once.Do(func() {
		l.re = regexp.MustCompile(l.source())
		l.source = nil
	})
	return l.re
}

// Add registers values; empty, short and known ones are ignored.
func (s *Set) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if len(v) < MinLen || !utf8.ValidString(v) {
			continue
		}
		if _, ok := s.secrets[v]; ok {
			continue
		}
		if s.secrets == nil {
			s.secrets = map[string]*matcher{}
		}
		m := compile(v)
		s.secrets[v] = m
		s.order = append(s.order, m)
	}
}

// Replace makes values the whole set.
func (s *Set) Replace(values ...string) {
	fresh := &Set{}
	fresh.Add(values...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets, s.order = fresh.secrets, fresh.order
}

// Len is the number of values registered.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.order)
}

// String returns text with every registered secret, in any form, and every
// URL password replaced by Redacted.
func (s *Set) String(text string) string {
	if s != nil && s.Len() > 0 && !utf8.ValidString(text) {
		// A secret echoed in Latin-1 (é as the one byte E9) is matched
		// in the form the text takes once made valid: \xE9.
		text = escapeInvalid(text)
	}
	if s != nil {
		s.mu.RLock()
		ms := s.order
		s.mu.RUnlock()
		for _, m := range ms {
			text = m.scrub(text)
		}
	}
	return Userinfo(text)
}

// Strings scrubs each element of list in place and returns it.
func (s *Set) Strings(list []string) []string {
	for i, v := range list {
		list[i] = s.String(v)
	}
	return list
}

// Map returns a copy of m with every value scrubbed (keys are the
// plugin's own names, not server text, and are kept).
func (s *Set) Map(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[s.String(k)] = s.String(v)
	}
	return out
}

func (m *matcher) scrub(text string) string {
	for _, core := range m.base64 {
		text = replaceBase64(text, core)
	}
	if strings.Contains(text, m.encodedHint) {
		text = m.encoded.get().ReplaceAllLiteralString(text, Redacted)
	}
	if m.prefix != nil && strings.Contains(text, m.prefixHint) && m.mayEndACutPrefix(text) {
		text = m.prefix.get().ReplaceAllLiteralString(text, Redacted)
	}
	return text
}

// ellipses are the spellings of an ellipsis that may follow a cut-off
// prefix (prefixSource).
var ellipses = []string{"…", "...", `\u2026`, "&hellip;", "&#8230;", "&#x2026;", "%E2%80%A6"}

// mayEndACutPrefix says whether a cut-off prefix could end in text: it is
// followed by an ellipsis or ends the text, and then the text's last byte
// is one a character's encoding, or an escape cut short, can end with. A
// cheap test that holds for every text the prefix regexp matches, so the
// regexp is compiled (and run) only for such text, not for every message
// that merely names something the secret begins with ("pbxwatch ..." for
// the demo's "pbxwatchSim..." secrets).
func (m *matcher) mayEndACutPrefix(text string) bool {
	for _, e := range ellipses {
		if strings.Contains(text, e) {
			return true
		}
	}
	if text == "" {
		return false
	}
	last := text[len(text)-1]
	return last < 0x80 && isAlnum(rune(last)) || strings.IndexByte(`%\&#;+`, last) >= 0 || strings.IndexByte(m.lastBytes, last) >= 0
}

// lastBytesOf is the last byte of each character of v.
func lastBytesOf(v string) string {
	var b []byte
	for i, r := range v {
		b = append(b, v[i+utf8.RuneLen(r)-1])
	}
	return string(b)
}

// escapeInvalid shows each byte that is not part of valid UTF-8 as \xNN,
// as the SDK and the agent make every text valid (sdk/bounds.Valid).
func escapeInvalid(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, `\x%02X`, s[0])
		} else {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// longestAlnum is the longest run of ASCII letters and digits in runes.
func longestAlnum(runes []rune) string {
	best, start := "", -1
	for i := 0; i <= len(runes); i++ {
		if i < len(runes) && isAlnum(runes[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start > len(best) {
			best = string(runes[start:i])
		}
		start = -1
	}
	return best
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// compile prepares the matcher of v: the cheap parts now, the regexps'
// sources for when their literal is first seen.
func compile(v string) *matcher {
	runes := []rune(v)
	m := &matcher{value: v, encodedHint: longestAlnum(runes), base64: base64Cores(v)}
	m.encoded.source = func() string { return encodedSource(m.value) }
	if minPrefix := prefixLen(len(runes)); len(runes) > minPrefix {
		m.prefix = &lazyRegexp{source: func() string { return prefixSource(m.value, minPrefix) }}
		m.prefixHint = longestAlnum(runes[:minPrefix])
		m.lastBytes = lastBytesOf(v)
	}
	return m
}

// runeAlternatives is runeForms of each character of v.
func runeAlternatives(v string) []string {
	var alts []string
	for _, r := range v {
		alts = append(alts, runeForms(r))
	}
	return alts
}

// encodedSource matches v, each character in any encoding.
func encodedSource(v string) string {
	return strings.Join(runeAlternatives(v), "")
}

// prefixSource matches the first minPrefix characters of v in any
// encoding, then as many more as there are, then an ellipsis (in any of its
// spellings) or the end of the text.
func prefixSource(v string, minPrefix int) string {
	alts := runeAlternatives(v)
	var b strings.Builder
	b.WriteString(strings.Join(alts[:minPrefix], ""))
	for _, a := range alts[minPrefix:] {
		b.WriteString("(?:" + a)
	}
	b.WriteString(strings.Repeat(")?", len(alts)-minPrefix))
	// A cut may fall inside the escape of the next character (%2,
	// \u00, &#3), and an ellipsis may follow a space (sdk/bounds' mark
	// " …[cut: N bytes in all]").
	// A multi-byte character may be cut after some of its bytes.
	b.WriteString(`(?:%[0-9A-Fa-f]{2}|\\x[0-9A-Fa-f]{2}){0,3}`)
	b.WriteString(`(?:%[0-9A-Fa-f]?|\\(?:u[0-9A-Fa-f]{0,3}|x[0-9A-Fa-f]?|U[0-9A-Fa-f]{0,7})?|&#?[xX]?[0-9A-Za-z]{0,7})?`)
	b.WriteString(`(?:\s?(?:…|\.\.\.|\\u2026|&hellip;|&#8230;|&#x2026;|%E2%80%A6)|\z)`)
	return b.String()
}

// runeForms is a regexp matching r written in any of the encodings a
// secret passes through on its way into a message.
func runeForms(r rune) string {
	forms := []string{regexp.QuoteMeta(string(r))}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	var pct, hexEsc strings.Builder
	for _, b := range buf[:n] {
		fmt.Fprintf(&pct, "%%(?i:%02x)", b)
		fmt.Fprintf(&hexEsc, `\\x(?i:%02x)`, b)
	}
	forms = append(forms, pct.String(), hexEsc.String())
	if r >= 0x80 && r <= 0xFF {
		// Latin-1: the character as its one byte, percent-encoded or
		// shown as \xNN once the text was made valid UTF-8.
		forms = append(forms, fmt.Sprintf(`%%(?i:%02x)`, r), fmt.Sprintf(`\\x(?i:%02x)`, r))
	}
	if r == ' ' {
		forms = append(forms, `\+`)
	}
	// JSON: \uXXXX (a surrogate pair above the BMP; Go's \UXXXXXXXX).
	if r > 0xFFFF {
		hi, lo := utf16.EncodeRune(r)
		forms = append(forms, fmt.Sprintf(`\\u(?i:%04x)\\u(?i:%04x)`, hi, lo), fmt.Sprintf(`\\U(?i:%08x)`, r))
	} else {
		forms = append(forms, fmt.Sprintf(`\\u(?i:%04x)`, r))
	}
	// HTML: numeric references, and the named ones html.EscapeString and
	// PHP's htmlspecialchars write.
	htmlForms := []string{regexp.QuoteMeta(string(r)), fmt.Sprintf(`&#0*%d;`, r), fmt.Sprintf(`&#[xX]0*(?i:%x);`, r)}
	if name, ok := htmlNames[r]; ok {
		htmlForms = append(htmlForms, name)
	}
	forms = append(forms, htmlForms[1:]...)
	// JSON's and Go's short escapes (\" \\ \/ \'), also HTML-escaped
	// after the backslash (JSON inside an HTML page).
	switch r {
	case '"', '\\', '/', '\'':
		forms = append(forms, `\\(?:`+strings.Join(htmlForms, "|")+`)`)
	}
	return "(?:" + strings.Join(forms, "|") + ")"
}

var htmlNames = map[rune]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;", '\'': "&(?:apos|#39);"}

// base64Cores returns what a base64 token (standard or URL alphabet,
// padded or not) whose decoding holds v at any offset must contain: the
// secret alone, or inside "user:secret" of an HTTP Basic Authorization
// header. For each of the three alignments, the characters that depend on v
// alone.
func base64Cores(v string) []string {
	cores := base64CoresOf(v)
	// OAuth's client_secret_basic: base64 of urlencode(id):urlencode(secret).
	if q := url.QueryEscape(v); q != v {
		cores = append(cores, base64CoresOf(q)...)
	}
	return cores
}

// minBase64Core is the shortest core searched for: 24 bits that must
// match, so a six-character secret is found at every alignment (its cores
// are seven or eight characters) while a random token rarely holds one.
const minBase64Core = 4

func base64CoresOf(v string) []string {
	var cores []string
	for off := 0; off < 3; off++ {
		padded := strings.Repeat("\x00", off) + v
		enc := base64.StdEncoding.EncodeToString([]byte(padded))
		// Skip the characters mixing in the filler bytes, and the last
		// ones, which mix in what follows v.
		start := (off*8 + 5) / 6
		end := (len(padded) * 8) / 6
		if end-start < minBase64Core {
			continue
		}
		core := enc[start:end]
		cores = append(cores, core)
		if url := strings.NewReplacer("+", "-", "/", "_").Replace(core); url != core {
			cores = append(cores, url)
		}
	}
	return cores
}

// replaceBase64 replaces every base64 token holding core, whole, with
// Redacted.
func replaceBase64(text, core string) string {
	for {
		i := strings.Index(text, core)
		if i < 0 {
			return text
		}
		start, end := i, i+len(core)
		for start > 0 && isBase64(text[start-1]) {
			start--
		}
		for end < len(text) && isBase64(text[end]) {
			end++
		}
		for end < len(text) && text[end] == '=' {
			end++
		}
		text = text[:start] + Redacted + text[end:]
	}
}

func isBase64(c byte) bool {
	return c < 0x80 && isAlnum(rune(c)) || c == '+' || c == '/' || c == '-' || c == '_'
}

// userinfo matches the password part of a URL's userinfo, also when the
// password holds '@', ':' or '/' (everything up to the last '@' before a
// query, fragment, space or quote: hiding too much beats showing a
// password), quoted or not.
var userinfo = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://[^/?#@\s:"'<>]*:)[^?#\s"'<>]*@`)
})

// Userinfo hides the password of every URL in text:
// "https://admin:pw@host/" becomes "https://admin:<secret>@host/".
func Userinfo(text string) string {
	if !strings.Contains(text, "://") {
		return text
	}
	return userinfo().ReplaceAllString(text, "${1}"+Redacted+"@")
}

// Pieces returns text with every piece of a registered secret (MinLen or
// more consecutive characters of its raw value) replaced by Redacted, after
// String. It is for errors about a value the secret was built into, such
// as Go's URL parse error quoting ":<part of a password>" as a port: text
// that quotes a secret in pieces no encoding explains. It may hide ordinary
// words that happen to be part of a secret, which an error can afford.
func (s *Set) Pieces(text string) string {
	text = s.String(text)
	if s == nil {
		return text
	}
	s.mu.RLock()
	values := make([]string, 0, len(s.secrets))
	for v := range s.secrets {
		values = append(values, v)
	}
	s.mu.RUnlock()
	for _, v := range values {
		r := []rune(v)
		if len(r) > 256 {
			r = r[:256]
		}
		for n := len(r); n >= MinLen; n-- {
			for i := 0; i+n <= len(r); i++ {
				if piece := string(r[i : i+n]); strings.Contains(text, piece) {
					text = strings.ReplaceAll(text, piece, Redacted)
				}
			}
		}
	}
	return text
}
