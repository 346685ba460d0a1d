package nagios

import (
	"strings"
	"unicode"
)

// validUTF8 makes a plugin's bytes safe to pass on: invalid UTF-8 and
// control characters other than newline and tab become U+FFFD, so binary
// garbage shows as such instead of corrupting a terminal or a JSON reader.
func validUTF8(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\r' {
			return r // CRLF line ends; SplitOutput removes them
		}
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
