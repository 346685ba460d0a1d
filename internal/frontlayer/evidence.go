package frontlayer

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// MaxExcerpt bounds the excerpt of a body a diagnosis quotes, in bytes.
const MaxExcerpt = 300

var (
	titleRE  = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	scriptRE = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	tagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
	// sensitiveRE finds credentials a page echoes back as key=value or
	// "key": "value" (debug pages print the POST data), whatever the value.
	sensitiveRE = regexp.MustCompile(`(?i)((?:client_secret|secret|password|passwd|accesskey|access_key|api_access_key|access_token|refresh_token|identifier|authorization)["']?\s*(?:=>|[:=])\s*["']?)(?:(?:Bearer|Basic|Digest)\s+)?[^\s"'&,;<>}\])(]{4,}`)
)

// Title is the page's <title>, on one line, valid UTF-8, bounded.
func Title(body []byte) string {
	m := titleRE.FindSubmatch(body[:min(len(body), 64<<10)])
	if m == nil {
		return ""
	}
	return clip(oneLine(html.UnescapeString(tagRE.ReplaceAllString(string(m[1]), " "))), 120)
}

// Excerpt is the start of a body for a diagnosis: markup stripped, on one
// line, valid UTF-8, at most MaxExcerpt bytes, with every given secret (in
// the encodings a page may echo it in), every secret the plugin registered
// with the SDK and every key=value credential removed.
func Excerpt(body []byte, secrets ...string) string {
	s := string(body[:min(len(body), 64<<10)])
	s = strings.ToValidUTF8(s, " ")
	if strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = scriptRE.ReplaceAllString(s, " ")
		s = html.UnescapeString(tagRE.ReplaceAllString(s, " "))
	}
	s = Scrub(s, secrets...)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return clip(oneLine(s), MaxExcerpt)
}

// Scrub removes secrets from s: the given ones in plain, URL-, JSON-,
// HTML- and base64-encoded form, those registered with the SDK, and the
// values of credential-named keys.
func Scrub(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) < 4 {
			continue
		}
		for _, form := range encodings(v) {
			if form != "" && strings.Contains(s, form) {
				s = strings.ReplaceAll(s, form, "<secret>")
			}
		}
	}
	s = sdk.Scrub(s)
	return sensitiveRE.ReplaceAllString(s, "${1}<secret>")
}

func encodings(v string) []string {
	j, _ := json.Marshal(v)
	js := strings.Trim(string(j), `"`)
	return []string{
		v, url.QueryEscape(v), url.PathEscape(v), js, html.EscapeString(v),
		strings.ReplaceAll(js, `"`, `\u0022`),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
	}
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
func Field(s string, n int, secrets ...string) string {
	s = strings.ToValidUTF8(s[:min(len(s), 4*n+64)], " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return clip(oneLine(Scrub(s, secrets...)), n)
}
