package whmcs

import (
	"net/http"
	"testing"

	"github.com/pbxwatch/pbxwatch/internal/testutil/verbatim"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

// quotedDetails are the details that present the server's words.
var quotedDetails = []string{"whmcs_message", "page_title", "body_excerpt", "server", "www_authenticate", "reference", "cf_ray", "cloudflare_error_code"}

// TestQuotesAreVerbatim: over every recorded answer, whatever a diagnosis
// presents as the server's words (a quoted message, a title, a header, an
// excerpt, WHMCS's refusal per action) is an excerpt of what was served:
// bounded, scrubbed, never rebuilt.
func TestQuotesAreVerbatim(t *testing.T) {
	for _, a := range whmcssim.Answers() {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			extra := ""
			if a.Action != "" {
				extra = "required_actions: [" + a.Action + "]"
			}
			h := http.Header{}
			for k, v := range a.Headers {
				h.Set(k, v)
			}
			served := verbatim.Answer(h, []byte(a.Body))
			res := runCheck(t, simConfig("/answer/"+a.Name+"/", extra))
			for _, d := range res.Diagnoses {
				var quotes []string
				for _, k := range quotedDetails {
					if v := d.Details[k]; v != "" {
						quotes = append(quotes, v)
					}
				}
				quotes = append(quotes, verbatim.Quotes(d.Details["whmcs_messages"], served)...)
				quotes = append(quotes, verbatim.Quotes(d.Message, served)...)
				for _, q := range quotes {
					if !served.Holds(q) {
						t.Errorf("%s quotes %q, which the answer did not say\nmessage: %s\ndetails: %v", d.Code, q, d.Message, d.Details)
					}
				}
			}
		})
	}
}

// TestLayerNamedOnlyOnItsMarker: a block page's diagnosis names no product
// but the one whose marker the answer carries (no ModSecurity steps for a
// CDN block, no Apache without an Apache marker, no product at all for an
// unidentified layer).
func TestLayerNamedOnlyOnItsMarker(t *testing.T) {
	for _, a := range whmcssim.Answers() {
		if a.Expect != "whmcs.edge_blocked" {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			res := runCheck(t, simConfig("/answer/"+a.Name+"/"))
			d := diagnosis(t, res, "whmcs.edge_blocked")
			named, err := verbatim.NamedWithoutMarker(d.Details["layer"], d.Message+"\n"+steps(d))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range named {
				t.Errorf("layer %s names %s without its marker:\n%s\n%s", d.Details["layer"], p, d.Message, steps(d))
			}
		})
	}
}
