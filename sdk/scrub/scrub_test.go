package scrub

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// hostile is a secret made of what encoders treat specially.
const hostile = `p@ss:w/rd+%&"<>'\!#$()*[]=é x`

func jsonString(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}

func lowerHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteString("%" + strings.ToLower(s[i+1:i+3]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// asciiJSON escapes every non-ASCII rune as \uXXXX, as PHP's json_encode does.
func asciiJSON(s string) string {
	q := strconv.QuoteToASCII(s) // \u00e9 for é
	return strings.ReplaceAll(q, `\x`, `\u00`)
}

func phpHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "&#39;", "&#039;")
}

func encodings(v string) map[string]string {
	basic := func(user string) string {
		return base64.StdEncoding.EncodeToString([]byte(user + ":" + v))
	}
	return map[string]string{
		"raw":               v,
		"query":             url.QueryEscape(v),
		"query lower hex":   lowerHex(url.QueryEscape(v)),
		"path":              url.PathEscape(v),
		"path lower hex":    lowerHex(url.PathEscape(v)),
		"json":              jsonString(v, true),
		"json no html":      jsonString(v, false),
		"json ascii":        asciiJSON(v),
		"html":              html.EscapeString(v),
		"php html":          phpHTML(v),
		"go quoted":         strconv.Quote(v),
		"go quoted ascii":   strconv.QuoteToASCII(v),
		"json of query":     jsonString("key="+url.QueryEscape(v)+"&x=1", true),
		"html of json":      html.EscapeString(jsonString(v, true)),
		"base64":            base64.StdEncoding.EncodeToString([]byte(v)),
		"base64 raw url":    base64.RawURLEncoding.EncodeToString([]byte(v)),
		"basic a":           "Authorization: Basic " + basic("a"),
		"basic ab":          "Authorization: Basic " + basic("ab"),
		"basic abc":         "Authorization: Basic " + basic("abc"),
		"basic long":        "Basic " + basic("identifier-0123456789"),
		"prefix ellipsis":   string([]rune(v)[:8]) + "…",
		"prefix dots":       string([]rune(v)[:8]) + "...",
		"prefix cut at end": "token=" + string([]rune(v)[:10]),
		"query prefix":      url.QueryEscape(string([]rune(v)[:9])) + "...",
	}
}

func TestEveryEncodingIsScrubbed(t *testing.T) {
	for _, secret := range []string{hostile, "Zm9vYmFy-plain-token_123", "ünïcødé ☃ 𝄞 secret"} {
		var s Set
		s.Add(secret)
		for name, enc := range encodings(secret) {
			text := "before " + enc + " after"
			if name == "prefix cut at end" {
				text = "before " + enc
			}
			got := s.String(text)
			if !strings.Contains(got, Redacted) {
				t.Errorf("%q, %s: not scrubbed: %s", secret, name, got)
				continue
			}
			if leaked := leak(got, secret); leaked != "" {
				t.Errorf("%q, %s: %s still holds %q", secret, name, got, leaked)
			}
			if !strings.HasPrefix(got, "before ") && name != "basic a" {
				t.Errorf("%s: surrounding text damaged: %s", name, got)
			}
		}
	}
}

// leak reports any 7-character piece of the secret (or of its URL or
// base64 encoding) still in text.
func leak(text, secret string) string {
	text = strings.ReplaceAll(text, Redacted, "")
	for _, form := range []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(secret))} {
		r := []rune(form)
		for i := 0; i+7 <= len(r); i++ {
			if piece := string(r[i : i+7]); strings.Contains(text, piece) {
				return piece
			}
		}
	}
	return ""
}

func TestOrdinaryTextIsKept(t *testing.T) {
	var s Set
	s.Add("hunter2-long-secret")
	for _, text := range []string{
		"WHMCS answered 403: Invalid IP 192.0.2.7",
		`{"result":"error","message":"Authentication Failed"}`,
		"hunter is not the secret", // a piece alone, not at a cut
		"https://pbx.example.com:8443/admin/api?x=1",
	} {
		if got := s.String(text); got != text {
			t.Errorf("%q became %q", text, got)
		}
	}
}

// Six characters of a long secret are evidence a plugin may show on
// purpose (the whmcs plugin names an identifier so); seven are scrubbed.
func TestSixCharacterPrefixIsEvidenceSevenAreNot(t *testing.T) {
	var s Set
	s.Add("pbxwatchSimIdentifier0123")
	if got := s.String("identifier pbxwat…"); got != "identifier pbxwat…" {
		t.Fatalf("six: %q", got)
	}
	if got := s.String("identifier pbxwatc…"); got != "identifier "+Redacted {
		t.Fatalf("seven: %q", got)
	}
}

func TestShortAndInvalidValuesIgnored(t *testing.T) {
	var s Set
	s.Add("", "abc", "\xff\xfe\xfd\xfc")
	if s.Len() != 0 {
		t.Fatalf("registered %d", s.Len())
	}
	if got := s.String("abc abc"); got != "abc abc" {
		t.Fatal(got)
	}
}

func TestReplace(t *testing.T) {
	var s Set
	s.Add("old-secret-value")
	s.Replace("new-secret-value")
	if got := s.String("old-secret-value new-secret-value"); got != "old-secret-value "+Redacted {
		t.Fatal(got)
	}
}

func TestUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		`parse "https://admin:p@ss:w/rd@pbx.example/api": invalid`: `parse "https://admin:<secret>@pbx.example/api": invalid`,
		"url http://u:pw@h:80/x and ftp://a:b@c":                   "url http://u:<secret>@h:80/x and ftp://a:<secret>@c",
		"https://host:8443/path?x=a@b":                             "https://host:8443/path?x=a@b",
		"no url here: a:b@c":                                       "no url here: a:b@c",
	} {
		if got := Userinfo(in); got != want {
			t.Errorf("Userinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHandlerScrubsMessageAndAttributes(t *testing.T) {
	var s Set
	s.Add(hostile)
	var buf bytes.Buffer
	log := slog.New(Handler(&s, slog.NewJSONHandler(&buf, nil))).With("pre", "x"+hostile)
	log.Info("msg "+hostile, "err", fmt.Errorf("wrapped: %s", url.QueryEscape(hostile)),
		slog.Group("g", "v", html.EscapeString(hostile)), "n", 3)
	if leaked := leak(buf.String(), hostile); leaked != "" {
		t.Fatalf("log holds %q: %s", leaked, buf.String())
	}
	if strings.Count(buf.String(), Redacted) != 4 {
		t.Fatalf("want 4 redactions: %s", buf.String())
	}
}

func BenchmarkScrub(b *testing.B) {
	var s Set
	for i := 0; i < 5; i++ {
		s.Add(fmt.Sprintf("%s-%d", hostile, i))
	}
	text := strings.Repeat("WHMCS said: Authentication Failed for identifier abc. ", 80) // 4 KiB
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = s.String(text)
	}
}
