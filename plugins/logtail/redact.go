package main

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Secrets that FreePBX and the web stack are known to put in log lines
// (module debug output, print_r of request arrays, SQL errors quoting
// INSERTs, AMI login dumps, OAuth requests). Each regexp keeps the key and
// replaces the value, so a reader still sees which secret was there.
var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	// key=value, key: value, "key":"value", [key] => value (print_r).
	// "secret" covers client_secret and AMPMGRPASS-style "...secret"; "token"
	// covers access_token, refresh_token, id_token.
	{regexp.MustCompile(`(?i)((?:secret|password|passwd|pwd|passphrase|token|api_?key|ampmgrpass)"?'?\]?\s*(?:=>|[=:])\s*"?'?)[^\s"',&;}\])]+`), "${1}<redacted>"},
	// HTTP Authorization values.
	{regexp.MustCompile(`(?i)\b(bearer|basic|digest)\s+[A-Za-z0-9._~+/=-]{8,}`), "${1} <redacted>"},
	// A JWT anywhere (header.payload.signature, base64url).
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), "<redacted>"},
	// Credentials in a URL: scheme://user:password@host.
	{regexp.MustCompile(`(://[^/\s:@]+:)[^/\s@]+@`), "${1}<redacted>@"},
}

// maxSampleBytes bounds a line quoted in a diagnosis or event.
const maxSampleBytes = 1024

// redact makes a log line fit to leave the plugin: secrets replaced, cut
// to maxSampleBytes, invalid UTF-8 replaced (protobuf strings must be
// UTF-8), and values registered with the SDK scrubbed.
func redact(line []byte) string {
	if len(line) > maxSampleBytes {
		line = line[:maxSampleBytes]
	}
	s := strings.ToValidUTF8(string(line), "\uFFFD")
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return sdk.Scrub(s)
}
