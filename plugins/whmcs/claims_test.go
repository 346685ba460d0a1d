package main

import (
	"net/http"
	"strings"
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

// products are names a diagnosis may give only on the product's marker.
var products = []string{"Cloudflare", "Akamai", "Sucuri", "Imperva", "Incapsula", "Imunify360", "Wordfence", "BitNinja", "ModSecurity", "Apache", "nginx", "LiteSpeed", "HAProxy", "Varnish", "Fastly", "CloudFront", "DDoS-Guard", "cPanel", "CSF"}

// allowedProducts: what each layer's diagnosis may name (its own product,
// and what its steps must mention to be followed).
var allowedProducts = map[string][]string{
	"cloudflare": {"Cloudflare"}, "cloudflare_challenge": {"Cloudflare"},
	"akamai": {"Akamai"}, "sucuri": {"Sucuri"}, "imperva": {"Imperva", "Incapsula"},
	"imunify360": {"Imunify360", "cPanel"}, "wordfence": {"Wordfence"}, "bitninja": {"BitNinja"},
	"modsecurity": {"ModSecurity", "Apache", "cPanel"}, "apache": {"Apache", "ModSecurity", "cPanel"},
	"nginx": {"nginx"}, "litespeed": {"LiteSpeed", "ModSecurity", "Imunify360", "cPanel"},
	"litespeed_recaptcha": {"LiteSpeed"}, "haproxy": {"HAProxy"}, "varnish": {"Varnish"}, "fastly": {"Fastly", "Varnish"},
	"aws_waf": {"CloudFront"}, "ddos_guard": {"DDoS-Guard"}, "cpanel_suspended": {"cPanel"}, "csf": {"CSF"},
	"empty": {"CSF", "Imunify360"}, "unknown": {},
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
			allowed, ok := allowedProducts[d.Details["layer"]]
			if !ok {
				t.Fatalf("layer %q has no entry in allowedProducts", d.Details["layer"])
			}
			text := d.Message + "\n" + steps(d)
			for _, p := range products {
				if !strings.Contains(text, p) || contains(allowed, p) {
					continue
				}
				t.Errorf("layer %s names %s without its marker:\n%s", d.Details["layer"], p, text)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
