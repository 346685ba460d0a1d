package verbatim

import (
	"fmt"
	"strings"
)

// products are names a diagnosis may give only on the product's marker.
var products = []string{"Cloudflare", "Akamai", "Sucuri", "Imperva", "Incapsula", "Imunify360", "Wordfence", "BitNinja",
	"ModSecurity", "Apache", "nginx", "LiteSpeed", "HAProxy", "Varnish", "Fastly", "CloudFront", "DDoS-Guard", "cPanel", "CSF"}

// allowedProducts is what a diagnosis of each layer (frontlayer's IDs, and
// the plugins' "empty" and "unknown") may name: its own product, and what
// its steps must mention to be followed (a hosting panel's menu, the
// bans worth checking when nothing names the layer).
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

// NamedWithoutMarker returns the products a diagnosis of layer names in
// text although the answer carried no marker of theirs.
func NamedWithoutMarker(layer, text string) ([]string, error) {
	allowed, ok := allowedProducts[layer]
	if !ok {
		return nil, fmt.Errorf("layer %q is not known to verbatim.allowedProducts: add what its diagnosis may name", layer)
	}
	var out []string
	for _, p := range products {
		if strings.Contains(text, p) && !contains(allowed, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
