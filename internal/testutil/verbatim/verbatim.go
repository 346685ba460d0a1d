// Package verbatim checks that what a diagnosis presents as a server's
// words is an excerpt of what the server sent: the body as bytes, as a
// person reads the page (markup stripped, entities decoded), or as the JSON
// strings it holds, and the header values. Diagnoses may bound, scrub
// (<secret>) and fold whitespace; they may not rebuild a sentence.
package verbatim

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	tagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
	scriptRE = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
)

// Served is everything a quote may be taken from, folded to one line.
type Served struct{ texts []string }

// Answer collects the readings of one answer.
func Answer(h http.Header, body []byte) Served {
	var s Served
	// Invalid UTF-8 may be shown as spaces or as \xNN escapes.
	for _, b := range []string{string(body), strings.ToValidUTF8(string(body), " "), escapeInvalid(body)} {
		page := html.UnescapeString(tagRE.ReplaceAllString(scriptRE.ReplaceAllString(b, " "), " "))
		s.texts = append(s.texts, fold(b), fold(page), fold(html.UnescapeString(b)))
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		var strs []string
		collect(v, &strs)
		s.texts = append(s.texts, fold(strings.Join(strs, "\n")))
	}
	for k, vals := range h {
		for _, v := range vals {
			s.texts = append(s.texts, fold(v), fold(k+": "+v))
		}
	}
	return s
}

// escapeInvalid writes each byte that is not valid UTF-8 as \xNN.
func escapeInvalid(b []byte) string {
	var out strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&out, `\x%02X`, b[0])
		} else {
			out.Write(b[:n])
		}
		b = b[n:]
	}
	return out.String()
}

func collect(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			collect(e, out)
		}
	case map[string]any:
		for _, e := range x {
			collect(e, out)
		}
	}
}

// fold maps control characters to spaces and runs of space to one, as the
// diagnoses' one-line fields do.
func fold(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Holds reports whether quote is an excerpt of the answer: each piece
// between the <secret> placeholders, with a cut's "…" removed, occurs in
// one reading of it.
func (s Served) Holds(quote string) bool {
	q := strings.TrimSuffix(fold(quote), "…")
	for _, piece := range strings.Split(q, "<secret>") {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		found := false
		for _, t := range s.texts {
			if strings.Contains(t, piece) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Quotes returns what message puts in double quotes. A quote may hold
// quotes of its own (a JSON body), so each opening quote is closed by the
// last closing quote that makes the text between an excerpt of served;
// when none does, by the first closing quote, so that the quote fails.
func Quotes(message string, served ...Served) []string {
	holds := func(q string) bool {
		for _, s := range served {
			if s.Holds(q) {
				return true
			}
		}
		return false
	}
	var out []string
	for i := 0; i < len(message); i++ {
		if message[i] != '"' || !opens(message, i) {
			continue
		}
		end, first := -1, -1
		for j := i + 1; j < len(message); j++ {
			if message[j] != '"' || !closes(message, j) {
				continue
			}
			if first < 0 {
				first = j
			}
			if holds(message[i+1 : j]) {
				end = j
			}
		}
		if end < 0 {
			end = first
		}
		if end > 0 {
			out = append(out, message[i+1:end])
			i = end
		}
	}
	return out
}

func opens(s string, i int) bool {
	return i == 0 || strings.ContainsRune(" ([{:", rune(s[i-1]))
}

func closes(s string, j int) bool {
	return j == len(s)-1 || strings.ContainsRune(" )]},.;:", rune(s[j+1]))
}
