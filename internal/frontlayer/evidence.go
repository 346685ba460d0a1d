package frontlayer

import (
	"encoding/base64"
	"html"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
)

// MaxExcerpt bounds the excerpt of a body a diagnosis quotes, in bytes.
const MaxExcerpt = 300

var (
	titleRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`) })
	scriptRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`) })
	tagRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<[^>]*>`) })
	// sensitiveRE finds credentials a page echoes back as key=value or
	// "key": "value" (debug pages print the POST data), whatever the value.
	sensitiveRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:client_secret|secret|password|passwd|accesskey|access_key|api_access_key|access_token|refresh_token|identifier|authorization)["']?\s*(?:=>|[:=])\s*["']?)(?:(?:Bearer|Basic|Digest)\s+)?[^\s"'&,;<>}\])(]{4,}`)
	})
)

// Title is the page's <title>, on one line, valid UTF-8, bounded.
func Title(body []byte) string {
	m := titleRE().FindSubmatch(body[:min(len(body), 64<<10)])
	if m == nil {
		return ""
	}
	t := html.UnescapeString(tagRE().ReplaceAllString(bounds.Valid(string(m[1])), " "))
	return clip(oneLine(noControls(bounds.Valid(t))), 120)
}

// Excerpt is the start of a body for a diagnosis: markup stripped, on one
// line, valid UTF-8, at most MaxExcerpt bytes, with every given secret (in
// the encodings a page may echo it in), every secret the plugin registered
// with the SDK and every key=value credential removed.
//
// The raw text is scrubbed before markup is stripped, and the stripped text
// again: a secret holding '<' or '&', or echoed with markup inside it, is
// no longer whole once tags are removed and entities decoded, and its
// remains would pass as ordinary text. Invalid bytes are shown as \xNN
// and bidirectional controls as \u202E (bounds.Valid), as everywhere
// else a server's words are quoted.
func Excerpt(body []byte, secrets ...string) string {
	s := Scrub(bounds.Valid(string(body[:min(len(body), 64<<10)])), secrets...)
	if strings.HasPrefix(strings.TrimSpace(s), "<") {
		// What the first scrub hid must survive the tag stripping.
		s = strings.ReplaceAll(s, "<secret>", hiddenMark)
		s = scriptRE().ReplaceAllString(s, " ")
		spaced := Scrub(bounds.Valid(html.UnescapeString(tagRE().ReplaceAllString(s, " "))), secrets...)
		// Markup inside a secret ("p@ss<b>word</b>") splits it where tags
		// become spaces: when the text with its tags removed outright
		// hides more, that is the excerpt (words may run together).
		glued := Scrub(bounds.Valid(html.UnescapeString(tagRE().ReplaceAllString(s, ""))), secrets...)
		s = spaced
		if strings.Count(glued, "<secret>") > strings.Count(spaced, "<secret>") {
			s = glued
		}
		s = strings.ReplaceAll(s, hiddenMark, "<secret>")
	}
	return clip(oneLine(noControls(s)), MaxExcerpt)
}

// hiddenMark stands for "<secret>" while tags are stripped (private-use
// characters, which no tag pattern touches).
const hiddenMark = "\uE000secret\uE001"

// noControls replaces control characters (a NUL, a bell, an escape
// sequence's ESC) with spaces.
func noControls(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// Scrub removes secrets from s: the given ones written plainly or with
// any mix of JSON, HTML and URL escapes (a debug page, a JSON error or a
// query string echoing them) or base64-encoded, those registered with the
// SDK, and the values of credential-named keys.
func Scrub(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) < 4 {
			continue
		}
		s = replaceEscaped(s, v)
		for _, form := range []string{
			base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
			base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
		} {
			s = strings.ReplaceAll(s, form, "<secret>")
		}
	}
	s = sdk.Scrub(s)
	return sensitiveRE().ReplaceAllString(s, "${1}<secret>")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Field makes one value from an answer (a header, a message the server
// wrote) fit for a diagnosis: valid UTF-8, no control characters, one
// line, at most n bytes, secrets removed.
//
// It is scrubbed before it is cut: a cut through a secret would leave its
// head as ordinary text.
func Field(s string, n int, secrets ...string) string {
	s = Scrub(bounds.Valid(s[:min(len(s), 64<<10)]), secrets...)
	return clip(oneLine(noControls(s)), n)
}

// Quote puts a server's words in double quotes as they are: Go's %q would
// escape quotes and backslashes inside them, and the quote would no longer
// be what the server said.
func Quote(s string) string { return `"` + s + `"` }

// NotHTTP reports an error of Go's HTTP client meaning the server answered,
// but not in HTTP/1.x: no status line (an HTTP/0.9 answer, another
// protocol on the port) or a malformed status line or header. It is not a
// failure to connect.
func NotHTTP(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "malformed HTTP") || strings.Contains(msg, "malformed MIME header")
}
