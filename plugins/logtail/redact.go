package logtail

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/bounds"
)

// Secrets that FreePBX and the web stack are known to put in log lines
// (module debug output, print_r of request arrays, SQL errors quoting
// INSERTs, AMI login dumps, OAuth requests). Each keeps the key and
// replaces the value, so a reader still sees which secret was there.
//
// keyValue finds key=value, key: value, "key":"value", [key] => value
// (print_r), also URL-encoded (secret%3D...). "secret" covers
// client_secret and AMPMGRPASS-style "...secret"; "token" covers
// access_token, refresh_token, id_token. The value runs to a space or
// quote: a '&' inside it is part of the secret unless a new parameter
// (&name=) starts there, which redactKeys then looks at in turn.
var keyValue = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)((?:secret|password|passwd|pwd|passphrase|token|api_?key|ampmgrpass)(?:"|'|%22|%27)?\]?\s*(?:=>|[=:]|%3[da])\s*(?:"|'|%22|%27)?)([^\s"',;}\])]+)`)
})

// nextParam is where the next query parameter starts, plain or
// URL-encoded.
var nextParam = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(?:&|%26)[a-z_][a-z0-9_.\[\]-]*(?:=|%3d)`) })

// redactions are the secrets a line may hold whatever its key is.
var redactions = sync.OnceValue(func() []redaction {
	return []redaction{
		// HTTP Authorization values: the whole credential, whatever it holds.
		{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[^\s"',;]+`), "${1} <redacted>"},
		{regexp.MustCompile(`(?i)\b(digest)\s+.*`), "${1} <redacted>"},
		// A JWT anywhere (header.payload.signature, base64url).
		{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), "<redacted>"},
		// Credentials in a URL: scheme://user:password@host.
		{regexp.MustCompile(`(://[^/\s:@]+:)[^/\s@]+@`), "${1}<redacted>@"},
	}
})

// redaction replaces what re matches with repl.
type redaction struct {
	re   *regexp.Regexp
	repl string
}

// redactKeys replaces the value of every secret-named key in s.
func redactKeys(s string) string {
	return keyValue().ReplaceAllStringFunc(s, func(m string) string {
		sub := keyValue().FindStringSubmatch(m)
		prefix, value := sub[1], sub[2]
		if loc := nextParam().FindStringIndex(value); loc != nil {
			return prefix + "<redacted>" + redactKeys(value[loc[0]:])
		}
		return prefix + "<redacted>"
	})
}

// maxSampleBytes bounds a line quoted in a diagnosis or event.
const maxSampleBytes = 1024

// redact makes a log line fit to leave the plugin: secrets replaced, cut
// to maxSampleBytes, invalid UTF-8 shown as \xNN (protobuf strings must be
// UTF-8), and values registered with the SDK scrubbed.
func redact(line []byte) string {
	if len(line) > maxSampleBytes {
		line = line[:maxSampleBytes]
	}
	// Invalid bytes are shown as \xNN: a Latin-1 line stays readable.
	s := bounds.Valid(string(line))
	s = redactKeys(s)
	for _, r := range redactions() {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return sdk.Scrub(s)
}
