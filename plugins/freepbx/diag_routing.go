package freepbx

import (
	"fmt"
	"strings"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// Codes of answers that did not come from the API module.
const (
	codeAPIRoutingBroken = "freepbx.api_routing_broken"
	codeEdgeBlocked      = "freepbx.edge_blocked"
	codeNotFreePBX       = "freepbx.not_freepbx"
	codePHPOutput        = "freepbx.php_output"

	// routingProbe marks a 404 diagnosis that the ajax.php follow-up must
	// confirm or replace; run() removes it.
	routingProbe = "routing_probe"
)

func diagPHPOutput(endpoint string, ex *exchange, before string) sdk.Diagnosis {
	d := evidence(ex)
	d["endpoint"] = endpoint
	what := frontlayer.PHPOutputEvidence(d, before)
	return critical(codePHPOutput,
		fmt.Sprintf("FreePBX's %s answer starts with %s before the JSON: OAuth and GraphQL clients, pbxwatch included, cannot parse it.", endpoint, what), d,
		"Turn PHP's display_errors off on the PBX (php.ini: display_errors = Off, then reload Apache or PHP-FPM): warnings belong in the log, not in API answers.",
		"Fix what the warning names: usually a module that needs an update for this PHP version (`fwconsole ma upgradeall`, then `fwconsole reload`).",
		"A byte order mark comes from a PHP file saved as \"UTF-8 with BOM\" (e.g. /etc/freepbx.conf): save it as UTF-8 without BOM.")
}

const stepRewrite = "Make Apache apply FreePBX's /admin/api/.htaccess: in the site's configuration (Debian: /etc/apache2/apache2.conf or the FreePBX vhost; EL: /etc/httpd/conf/httpd.conf) set `<Directory /var/www/html/admin/api> AllowOverride All </Directory>` (or AllowOverride All for /var/www/html), enable mod_rewrite (`a2enmod rewrite` on Debian; EL loads it by default), then `apachectl configtest && systemctl reload apache2` (httpd on EL)."

func diagRoutingBroken(endpoint string, ex *exchange, why string) sdk.Diagnosis {
	return routingBroken(endpoint, ex, why, false)
}

// diagRouteMismatch: the request reached the API module, whose router
// received another path than /<endpoint>: something rewrote it on the way.
func diagRouteMismatch(endpoint string, ex *exchange, why string) sdk.Diagnosis {
	return routingBroken(endpoint, ex, why, true)
}

func routingBroken(endpoint string, ex *exchange, why string, moduleReached bool) sdk.Diagnosis {
	d := evidence(ex)
	d["endpoint"] = endpoint
	addPageEvidence(d, ex)
	base := baseOf(ex.url)
	proxy := "If a reverse proxy or container publishes FreePBX, it must pass /admin/api/… through unchanged (path and query string) to Apache, not to the GUI or another prefix."
	check := fmt.Sprintf("Check by hand from this host: `curl -si -X POST '%s/admin/ajax.php?module=api&command=token'` answers FreePBX's OAuth JSON (400 invalid_request) when the module works; `curl -si -X POST '%s'` must answer the same once the routing works.", base, ex.url)
	steps := []string{stepRewrite, check, proxy}
	how := "which the web server ignores (AllowOverride None, mod_rewrite off) or a reverse proxy bypasses by rewriting the path"
	if moduleReached {
		steps = []string{proxy, "If /var/www/html/admin/api/.htaccess was edited, restore the framework's rule: `RewriteRule ^([^/]*)/([^/]*)/?(.*)?$ /admin/api/api.php?module=$1&command=$2&route=$3 [L,QSA]`.", check}
		how = "which ran, but the path or its route part was changed on the way (a proxy rewriting paths, an edited or outdated .htaccess)"
	}
	return critical(codeAPIRoutingBroken,
		fmt.Sprintf("FreePBX's API routing is not in effect at %s: %s. The API URLs exist only through the rewrite rule in /admin/api/.htaccess (/admin/api/<module>/<command>/<route> → admin/api/api.php?module=…&command=…&route=…), %s.", ex.url, why, how), d,
		steps...)
}

func diagNotFreePBX(ex *exchange, probe *exchange) sdk.Diagnosis {
	d := evidence(ex)
	addPageEvidence(d, ex)
	if probe != nil {
		d["ajax_url"] = probe.url
		if probe.status != 0 {
			d["ajax_http_status"] = fmt.Sprint(probe.status)
		}
	}
	return critical(codeNotFreePBX,
		fmt.Sprintf("Nothing FreePBX answers at %s: the token endpoint answered %d %s and FreePBX's own %s is missing too, so url does not reach a FreePBX web server (wrong host, port or path prefix).", baseOf(ex.url), ex.status, orQuoted(d["page_title"]), "/admin/ajax.php"), d,
		stepCheckSchemeHostPort,
		"Set url: to the address that opens the FreePBX administration GUI (without /admin), e.g. https://pbx.example.com; if a proxy publishes FreePBX under a prefix, include the prefix.",
		stepFixOverrides)
}

func diagEdgeBlocked(endpoint string, ex *exchange, l frontlayer.Layer) sdk.Diagnosis {
	d := evidence(ex)
	d["endpoint"] = endpoint
	d["layer"], d["product"], d["marker"] = l.ID, l.Product, frontlayer.Field(l.Marker, 80)
	addPageEvidence(d, ex)
	steps := []string{
		fmt.Sprintf("Find the refused request in %s's log or dashboard (the page's reference, incident or Ray ID is in the body excerpt) and allow this host's address for %s, or add an exception for the path /admin/api/api/.", l.Product, baseOf(ex.url)),
		"Or point url: at an address that does not pass through it and is reachable only from trusted addresses (API clients cannot solve challenges or CAPTCHAs).",
	}
	switch l.ID {
	case "empty":
		steps[0] = "Nothing in the answer names what refused it. On the PBX and any proxy in front, look for this host's address among the bans: `fail2ban-client status` and each jail's banned IPs, FreePBX's Firewall (Responsive Firewall) blocked hosts, CSF (`csf -g <IP>`); unban it and add it to the tool's allow list."
	case "unknown":
		steps[0] = "Nothing in the answer names what refused it (its Server header, title and an excerpt are in the details): find which component in front of FreePBX (CDN, WAF, proxy, web server) produced the page, and allow this host's address for the path /admin/api/api/ there."
	case "modsecurity":
		steps[0] = "On the PBX (or the proxy), find \"ModSecurity: Access denied\" for this request in the Apache error log or the ModSecurity audit log; exclude the rule for /admin/api/ (`SecRuleRemoveById <id>` in a <LocationMatch \"^/admin/api/\">) or whitelist this host's IP, then reload Apache."
	case "cloudflare", "cloudflare_challenge":
		steps[0] = "In the Cloudflare dashboard open Security > Events, search for the Ray ID and add a WAF custom rule with action Skip for this host's IP and the path /admin/api/api/ (Bot Fight Mode cannot be skipped: turn it off or use a hostname that is not proxied)."
	case "imunify360":
		steps[0] = "Whitelist this host's IP in Imunify360 on the server in front of FreePBX: `imunify360-agent whitelist ip add <this host's IP> --comment pbxwatch`."
	}
	msg := fmt.Sprintf("%s refused the %s request before it reached FreePBX (HTTP %d, no FreePBX JSON in the answer).", l.Product, endpoint, ex.status)
	if l.ID == "unknown" {
		msg = fmt.Sprintf("An unidentified layer in front of FreePBX refused the %s request (HTTP %d, no FreePBX JSON in the answer); nothing in it names a product (Server header %s, page title %s, body %s).",
			endpoint, ex.status, quotedOrNone(ex.header.Get("Server"), 120), quotedOrNone(frontlayer.Title(ex.body), 120), quotedOrNone(excerpt(ex.body), 200))
	}
	if wa := ex.header.Get("Www-Authenticate"); ex.status == 401 && wa != "" {
		d["www_authenticate"] = frontlayer.Field(wa, 120)
		msg = fmt.Sprintf("The web server or proxy in front of FreePBX asks for HTTP authentication (401, WWW-Authenticate: %s): /admin is password-protected, so the %s request never reached FreePBX's API.", d["www_authenticate"], endpoint)
		steps = append([]string{"Exclude /admin/api/ from the password protection (an AuthType Basic / Require valid-user block or .htpasswd on /admin, or the proxy's auth): the API authenticates its clients with OAuth itself."}, steps...)
	}
	return critical(codeEdgeBlocked, msg, d, steps...)
}

// quotedOrNone quotes a value of the answer, bounded, or says there was
// none.
func quotedOrNone(s string, n int) string {
	if s = frontlayer.Field(s, n); s == "" {
		return "(none)"
	}
	return frontlayer.Quote(s)
}

// addPageEvidence records the server, title and content type of an answer.
func addPageEvidence(d map[string]string, ex *exchange) {
	if ex == nil || ex.header == nil {
		return
	}
	if s := ex.header.Get("Server"); s != "" {
		d["server_header"] = frontlayer.Field(s, 120)
	}
	if ct := ex.header.Get("Content-Type"); ct != "" {
		d["content_type"] = frontlayer.Field(ct, 120)
	}
	if t := frontlayer.Title(ex.body); t != "" {
		d["page_title"] = t
	}
}

// baseOf is the scheme and host of u, the FreePBX base the paths hang off.
func baseOf(u string) string {
	if i := strings.Index(u, "/admin/"); i > 0 {
		return u[:i]
	}
	return strings.TrimSuffix(u, "/")
}
