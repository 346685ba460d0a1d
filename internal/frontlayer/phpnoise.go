package frontlayer

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sync"
)

// phpMessage is how PHP prints a warning, notice or error into a page when
// display_errors is on: "<br />\n<b>Warning</b>:  ..." in HTML mode,
// "PHP Warning:  ..." or "Warning: ..." in text mode.
var phpMessage = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^(?:<br\s*/?>\s*)?(?:<b>)?(?:PHP )?(?:Warning|Notice|Deprecated|Strict Standards|Fatal error|Parse error)(?:</b>)?:`)
})

// BOMDescription stands for a byte order mark, which has nothing printable
// to quote, in SplitPHPOutput's before: a description, never a quote.
const BOMDescription = "a UTF-8 byte order mark"

// SplitPHPOutput separates a JSON answer from what PHP (or a file saved
// with a byte order mark) printed before it. It returns the JSON and the
// text before it when the body is such a JSON answer with something
// before it; ok is false otherwise (including for clean JSON).
func SplitPHPOutput(body []byte) (js []byte, before string, ok bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	bom := bytes.HasPrefix(trimmed, []byte("\xef\xbb\xbf"))
	if bom {
		trimmed = bytes.TrimLeft(trimmed[3:], " \t\r\n")
	}
	if !bom && !phpMessage().Match(trimmed) {
		return nil, "", false
	}
	for i := 0; i < len(trimmed); i++ {
		if trimmed[i] != '{' || (i > 0 && trimmed[i-1] != '\n' && trimmed[i-1] != '>' && trimmed[i-1] != ' ') {
			continue
		}
		if rest := bytes.TrimSpace(trimmed[i:]); json.Valid(rest) {
			b := string(trimmed[:i])
			if bom && i == 0 {
				b = BOMDescription
			}
			return rest, b, true
		}
	}
	return nil, "", false
}

// PHPOutputEvidence records what came before the JSON in a diagnosis'
// details (output_before_json, PHP's words as printed and bounded; or
// byte_order_mark, which has no words to quote) and returns how the
// diagnosis' message names it.
func PHPOutputEvidence(d map[string]string, before string, secrets ...string) string {
	if before == BOMDescription {
		d["byte_order_mark"] = "true"
		return before
	}
	d["output_before_json"] = Field(before, 300, secrets...)
	return `PHP output ("` + d["output_before_json"] + `")`
}
