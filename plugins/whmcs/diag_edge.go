package whmcs

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Diagnoses of answers that did not come from WHMCS: a CDN, WAF or web
// server in front of it, a wrong URL, a redirect.

func (r *run) edgeBlocked(rep *reply, e edge) *sdk.Diagnosis {
	d := r.details(rep, "")
	d["layer"] = e.layer
	if e.product != "" {
		d["product"] = e.product
	}
	if e.cfRay != "" {
		d["cf_ray"] = e.cfRay
	}
	if e.cfErrorCode != "" {
		d["cloudflare_error_code"] = e.cfErrorCode
	}
	if t := pageTitle(rep.body); t != "" {
		d["page_title"] = t
	} else if e.cfTitle != "" {
		d["page_title"] = e.cfTitle
	}
	if ex := r.excerpt(rep.body); ex != "" {
		d["body_excerpt"] = ex
	}
	host := r.cfg.endpoint.Hostname()
	api := "/" + strings.TrimPrefix(r.cfg.endpoint.Path, "/")
	before := fmt.Sprintf("HTTP %d from %%s, before the request reached WHMCS (no WHMCS JSON in the answer)", rep.status)
	diag := &sdk.Diagnosis{Code: "whmcs.edge_blocked", Severity: sdk.SeverityCritical, Details: d}
	switch e.layer {
	case "cloudflare":
		code := ""
		if e.cfErrorCode != "" {
			code = " with error " + e.cfErrorCode
		}
		diag.Message = fmt.Sprintf("Cloudflare blocked the API call%s: %s. A Cloudflare firewall rule (WAF custom rule, IP access rule or managed rule) denies this host.", code, fmt.Sprintf(before, "Cloudflare"))
		diag.Remediation = []string{
			fmt.Sprintf("In the Cloudflare dashboard for %s open Security > Events and search for Ray ID %s: the event names the rule that blocked the call.", host, orUnknown(e.cfRay)),
			fmt.Sprintf("Exempt the API: add a WAF custom rule with action Skip for requests from this host's IP address to URI path %s, placed before the blocking rule (or add the IP as Allow under Security > WAF > Tools, IP Access Rules).", api),
			"Or point url: at a hostname that is not proxied by Cloudflare (DNS only, grey cloud) and is reachable only from trusted addresses.",
		}
	case "cloudflare_challenge":
		diag.Message = fmt.Sprintf("Cloudflare answered with a challenge page instead of passing the API call on (cf-mitigated: challenge; %s). Bot Fight Mode, Under Attack mode or a Managed Challenge rule treats the API client as a bot, and an API client cannot solve a challenge.", fmt.Sprintf(before, "Cloudflare"))
		diag.Remediation = []string{
			fmt.Sprintf("In the Cloudflare dashboard for %s open Security > Events and search for Ray ID %s to see what issued the challenge.", host, orUnknown(e.cfRay)),
			fmt.Sprintf("Add a WAF custom rule with action Skip for this host's IP address and URI path %s (skip the remaining custom rules, rate limiting and Super Bot Fight Mode), or turn off Under Attack mode. Free-plan Bot Fight Mode cannot be skipped by rules: turn it off (Security > Bots) or use a hostname that is not proxied.", api),
		}
	case "modsecurity":
		server := "the web server"
		if sv := rep.header.Get("Server"); sv != "" {
			server = fmt.Sprintf("the web server (Server: %s)", r.field(sv))
		}
		diag.Message = fmt.Sprintf("ModSecurity refused the API call with its own error page: %s. A ModSecurity rule (often the OWASP Core Rule Set) in %s matched the request.", fmt.Sprintf(before, "ModSecurity"), server)
		diag.Remediation = []string{
			fmt.Sprintf("On the WHMCS server, find this request in the web server's error log or the ModSecurity audit log (modsec_audit.log): a line \"ModSecurity: Access denied with code %d\" names the rule [id \"…\"] that matched.", rep.status),
			fmt.Sprintf("Exclude that rule for the API only (Apache: `<LocationMatch \"%s\"> SecRuleRemoveById <id> </LocationMatch>` in the virtual host; or a CRS exclusion rule), or whitelist this host's IP in the hosting panel (cPanel: ModSecurity Tools; Plesk: Web Application Firewall). Reload the web server.", strings.ReplaceAll(api, ".", `\.`)),
		}
	case "apache":
		diag.Message = fmt.Sprintf("Apache httpd refused the API call with its own error page: %s. An access rule (Require, Deny, .htaccess) covering includes/, or a WAF module using Apache's default page (ModSecurity), refuses this host.", fmt.Sprintf(before, "Apache httpd"))
		diag.Remediation = []string{
			fmt.Sprintf("On the WHMCS server, look for this request in Apache's error log (/var/log/apache2/error.log or /var/log/httpd/error_log): \"AH01630: client denied by server configuration\" names an access rule; \"ModSecurity: Access denied with code %d\" names a rule [id \"…\"] (also in the ModSecurity audit log modsec_audit.log).", rep.status),
			fmt.Sprintf("For an access rule: allow this host's IP in the Require/Deny block or .htaccess in the WHMCS root or includes/. For a ModSecurity rule: `<LocationMatch \"%s\"> SecRuleRemoveById <id> </LocationMatch>` in the virtual host, or whitelist the IP in the hosting panel. Reload Apache.", strings.ReplaceAll(api, ".", `\.`)),
		}
	case "nginx":
		diag.Message = fmt.Sprintf("nginx refused the API call with its own 403 page: %s. An allow/deny rule or a location block matching the API path (or an nginx WAF module) refuses this host.", fmt.Sprintf(before, "nginx"))
		diag.Remediation = []string{
			"On the WHMCS server, check nginx's error log for \"access forbidden by rule\" with this host's address, and the location blocks that match " + api + ".",
			"Add `allow <this host's IP>;` before the `deny` in that location, or remove the rule for the API path; then `nginx -t && systemctl reload nginx`.",
		}
	case "litespeed":
		diag.Message = fmt.Sprintf("LiteSpeed Web Server refused the API call with its own page%s: %s. On shared hosting this is usually the provider's WAF (ModSecurity rules, Imunify360) or an .htaccess rule.", titled(rep.body), fmt.Sprintf(before, "LiteSpeed"))
		diag.Remediation = []string{
			"In the hosting panel, check the WAF's incidents for this host's IP (cPanel: ModSecurity Tools or Imunify360 > Incidents) and whitelist the IP or disable the matched rule for " + api + ".",
			"Check .htaccess files in the WHMCS root and includes/ for rules that refuse this address.",
			"If the panel shows nothing, ask the hosting provider which rule blocks POST requests to " + api + " from this IP.",
		}
	case "empty":
		diag.Message = fmt.Sprintf("The server answered HTTP %d with an empty body: something in front of WHMCS rejected the call without a WHMCS answer, typically fail2ban or a firewall/WAF blocking this address (WHMCS always explains its own refusals in JSON).", rep.status)
		diag.Remediation = []string{
			"On the WHMCS server, check whether this host's IP is banned: `fail2ban-client status` and each jail's banned IPs, the hosting firewall (CSF: `csf -g <ip>`, Imunify360), and WHMCS's Ban Control list (3 failed admin logins ban an IP for 15 minutes by default).",
			"Unban the address and whitelist it in the tool that banned it (fail2ban ignoreip, csf.allow).",
			"Each pbxwatch run uses a fresh connection, so this is not a stale keep-alive connection: the block is on the address. If the web server's access log does not show the request, the block is before the web server (firewall, CDN).",
		}
	case "imunify360":
		diag.Message = fmt.Sprintf("Imunify360 (the hosting server's security suite) refused the API call as a bot: %s. Its bot protection answers API clients with its own page, often at HTTP 200 or 415.", fmt.Sprintf(before, "Imunify360"))
		diag.Remediation = []string{
			"On the WHMCS server (or ask the hosting provider): whitelist this host's public IP in Imunify360, `imunify360-agent whitelist ip add <this host's IP> --comment pbxwatch`, or in the panel under Imunify360 > Firewall > White List.",
			"If the IP must not be whitelisted, ask the provider to exclude " + api + " from Imunify360's bot protection (WebShield / anti-bot challenge) for this address.",
		}
	case "sucuri":
		diag.Message = fmt.Sprintf("The Sucuri WebSite Firewall refused the API call: %s.", fmt.Sprintf(before, "Sucuri"))
		diag.Remediation = []string{
			"In the Sucuri dashboard for " + host + " open Firewall > Access Control and add this host's IP to the Whitelist IP addresses (or whitelist the URL path " + api + ").",
			"The block page's details name the reason (block ID); check Firewall > Audit Trails for this IP.",
			"Or point url: at the origin server directly (a hostname that bypasses the Sucuri proxy) reachable only from trusted addresses.",
		}
	case "wordfence":
		diag.Message = fmt.Sprintf("Wordfence (a WordPress firewall) refused the API call: %s. WHMCS sits inside or beside a WordPress site whose Wordfence firewall (extended protection via auto_prepend_file) covers WHMCS's files too.", fmt.Sprintf(before, "Wordfence"))
		diag.Remediation = []string{
			"In the WordPress admin open Wordfence > Firewall > All Firewall Options and add this host's IP under Allowlisted IP addresses that bypass all rules; check Wordfence > Tools > Live Traffic for the block reason.",
			"Better, keep WHMCS out of Wordfence's reach: remove the auto_prepend_file of wordfence-waf.php from WHMCS's directory (.user.ini or .htaccess), or move WHMCS to its own (sub)domain.",
		}
	case "bitninja":
		diag.Message = fmt.Sprintf("BitNinja (the hosting server's security suite) refused the API call: %s.", fmt.Sprintf(before, "BitNinja"))
		diag.Remediation = []string{
			"On the WHMCS server: `bitninjacli --whitelist --add=<this host's IP>` (or in the BitNinja console, Firewall > Whitelist), or ask the hosting provider to.",
		}
	case "litespeed_recaptcha":
		diag.Message = fmt.Sprintf("LiteSpeed's anti-bot reCAPTCHA answered instead of WHMCS: %s. The server is under (or configured for) bot protection and challenges every client, and an API client cannot solve a CAPTCHA.", fmt.Sprintf(before, "LiteSpeed"))
		diag.Remediation = []string{
			"Ask the hosting provider (or in WHM, LiteSpeed Web Server > Configuration > Security > reCAPTCHA Protection) to add this host's IP to the trusted list, or lower the connection limit that triggers the challenge.",
		}
	case "cpanel_suspended":
		diag.Message = fmt.Sprintf("The hosting account serving WHMCS is suspended: the panel's suspension page answered (%s).", fmt.Sprintf(before, "cPanel"))
		diag.Remediation = []string{
			"Ask the hosting provider why the account of " + host + " was suspended (unpaid, abuse, resource limits) and have it unsuspended.",
		}
	case "akamai":
		ref := akamaiReference(rep.body)
		if ref != "" {
			d["reference"] = ref
		}
		diag.Message = fmt.Sprintf("Akamai, the CDN in front of WHMCS, refused the API call with its Access Denied page: %s.", fmt.Sprintf(before, "Akamai"))
		diag.Remediation = []string{
			fmt.Sprintf("In Akamai Control Center, look the request up by its reference %s (Web Security Analytics, or the Reference ID translator) to see which rule (WAF, bot manager, IP/geo block) denied it.", orUnknown(ref)),
			fmt.Sprintf("Add an exception for this host's IP and the path %s to that policy, or ask whoever runs the property for %s to.", api, host),
			"Or point url: at a hostname that bypasses the CDN and is reachable only from trusted addresses.",
		}
	case "csf":
		diag.Message = fmt.Sprintf("The host firewall of the WHMCS server (ConfigServer CSF/LFD) has blocked this host's address and answers with its block page: %s. LFD blocks addresses after repeated failed logins or connection floods.", fmt.Sprintf(before, "ConfigServer's firewall"))
		diag.Remediation = []string{
			"On the WHMCS server: `csf -g <this host's IP>` shows the rule and the reason; `csf -dr <IP>` (permanent block) or `csf -tr <IP>` (temporary) removes it.",
			"Then `csf -a <this host's IP> pbxwatch` adds it to csf.allow (or csf.ignore, to keep LFD from blocking it again), or ask the hosting provider to.",
		}
	case "haproxy":
		diag.Message = fmt.Sprintf("HAProxy in front of WHMCS refused the API call with its stock 403 page: %s. An `http-request deny` rule (an ACL on the address, path or headers) matched.", fmt.Sprintf(before, "HAProxy"))
		diag.Remediation = []string{
			fmt.Sprintf("In haproxy.cfg, find the frontend/backend serving %s and the `http-request deny` rules there; allow this host's IP for the path %s before them.", host, api),
			"Check the result with `haproxy -c -f /etc/haproxy/haproxy.cfg`, then reload HAProxy.",
		}
	case "varnish", "fastly":
		diag.Message = fmt.Sprintf("%s, the cache in front of WHMCS, answered HTTP %d with its own error page instead of passing the API call on: %s.", e.product, rep.status, fmt.Sprintf(before, e.product))
		diag.Remediation = []string{
			fmt.Sprintf("Check the cache's configuration (VCL) for the rule that answers %s for POST requests to %s, and pass the API path to the origin uncached.", strconv.Itoa(rep.status), api),
			"Or point url: at the origin server directly (reachable only from trusted addresses).",
		}
	case "imperva", "aws_waf", "ddos_guard":
		diag.Message = fmt.Sprintf("%s, the CDN/WAF in front of WHMCS, refused the API call: %s.", e.product, fmt.Sprintf(before, e.product))
		diag.Remediation = []string{
			fmt.Sprintf("In %s's console for %s, look up this request (the block page's reference or incident ID is in the details) to see which rule matched.", e.product, host),
			fmt.Sprintf("Add an exception for this host's IP and the path %s (or an allow rule placed before the blocking one).", api),
			"Or point url: at a hostname that bypasses the CDN and is reachable only from trusted addresses.",
		}
	default:
		diag.Message = fmt.Sprintf("Something in front of WHMCS refused the API call: %s. Nothing in the answer names the product (Server header %s, page title %s, body %s).",
			fmt.Sprintf(before, "an unidentified layer"), orNone(r.field(rep.header.Get("Server"))), orNone(pageTitle(rep.body)), orNone(r.excerpt(rep.body)))
		diag.Remediation = []string{
			"Find which component produced the page (the page title, server header and body excerpt are in the details): a CDN, WAF, host firewall, reverse proxy or the web server.",
			"Allow POST requests from this host's IP to " + api + " in that component, then run the check again.",
		}
	}
	if wa := rep.header.Get("Www-Authenticate"); rep.status == 401 && wa != "" {
		d["www_authenticate"] = r.field(wa)
		diag.Message = fmt.Sprintf("The web server in front of WHMCS asks for HTTP authentication (401, WWW-Authenticate: %s): the WHMCS directory or includes/ is password-protected, so the API call never reached WHMCS.", d["www_authenticate"])
		diag.Remediation = append([]string{
			"Exclude " + api + " from the password protection (cPanel: Directory Privacy on the WHMCS folder; Apache: an .htaccess with AuthType Basic / Require valid-user in the WHMCS root or includes/): e.g. `<Files \"api.php\"> Require all granted </Files>` in includes/.htaccess, or protect only the admin directory.",
		}, diag.Remediation...)
	}
	return diag
}

// titled is ` ("<page title>")` when the page has a title: what the page
// said, quoted from it, never a product's stock sentence.
func titled(body []byte) string {
	if t := pageTitle(body); t != "" {
		return fmt.Sprintf(" (%q)", t)
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

var akamaiRefRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`Reference #(\d+\.[0-9a-fA-F]+\.\d+\.[0-9a-fA-F]+)`) })

// akamaiReference is the reference ID of Akamai's Access Denied page
// (written with entities: Reference&#32;&#35;18&#46;...).
func akamaiReference(body []byte) string {
	b := body[:min(len(body), 64<<10)]
	if m := akamaiRefRE().FindSubmatch([]byte(html.UnescapeString(string(b)))); m != nil {
		return string(m[1])
	}
	return ""
}

func (r *run) notFound(rep *reply) *sdk.Diagnosis {
	d := r.details(rep, "")
	if t := pageTitle(rep.body); t != "" {
		d["page_title"] = t
	}
	return &sdk.Diagnosis{
		Code: "whmcs.wrong_endpoint", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("Nothing answers the WHMCS API at %s (HTTP %d): url does not point at the WHMCS root.", rep.url, rep.status),
		Remediation: []string{
			"Set url: to the WHMCS root, the address where the client area opens (e.g. https://billing.example.com/ or https://example.com/whmcs/); pbxwatch appends includes/api.php. The System URL in the admin area's General Settings shows it.",
			fmt.Sprintf("Check the result by hand: `curl -s -d action=WhmcsDetails %s` must answer JSON (a 403 with {\"result\":\"error\",...} without credentials), not a 404 page.", rep.url),
		},
		Details: d,
	}
}

func (r *run) htmlPage(rep *reply) *sdk.Diagnosis {
	p := pagesFor(r.version)
	d := r.details(rep, "")
	title := pageTitle(rep.body)
	if title != "" {
		d["page_title"] = title
	}
	d["body_excerpt"] = r.excerpt(rep.body)
	return &sdk.Diagnosis{
		Code: "whmcs.wrong_endpoint", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("The API endpoint answered HTTP %d with a web page (%q) instead of the API's JSON: WHMCS is in maintenance mode, or url leads to a login or landing page, or a proxy serves its own page.", rep.status, title),
		Remediation: []string{
			fmt.Sprintf("Open %s in a browser. If it shows WHMCS's maintenance page, finish the maintenance and turn Maintenance Mode off (%s).", rep.url, p.general),
			"Otherwise set url: to the WHMCS root (where the client area opens); pbxwatch appends includes/api.php.",
			"If a reverse proxy or hosting landing page answers, route " + r.cfg.endpoint.Path + " to WHMCS.",
		},
		Details: d,
	}
}

func (r *run) redirected(rep *reply) *sdk.Diagnosis {
	d := r.details(rep, "")
	loc := r.field(rep.header.Get("Location"))
	target := loc
	if base, err := url.Parse(rep.url); err == nil {
		if u, err := base.Parse(loc); err == nil {
			target = u.String()
		}
	}
	d["location"] = target
	if !isHTTP(target) {
		// Never suggest a file:, javascript: or other non-web target as
		// the URL to use: it is a misconfiguration or an attack.
		return &sdk.Diagnosis{
			Code: "whmcs.redirected", Severity: sdk.SeverityCritical,
			Message: fmt.Sprintf("The API endpoint answered HTTP %d, a redirect to %s, which is not an http(s) address. pbxwatch does not follow it, and no WHMCS API is there.", rep.status, target),
			Remediation: []string{
				"Find what answers with this redirect (a rewrite rule, a hosting panel's redirect, a compromised .htaccess): `curl -sI " + rep.url + "` shows it.",
				"Remove it so that the API endpoint answers itself, and keep `url:` pointing at WHMCS over https.",
			},
			Details: d,
		}
	}
	suggested := suggestedURL(r.cfg.URL, target)
	d["suggested_url"] = suggested
	why := ""
	if strings.HasPrefix(rep.url, "http://") && strings.HasPrefix(target, "https://") {
		why = " The server forces HTTPS, and rightly: over http the secret crosses the network in clear text."
	} else if strings.Contains(strings.ToLower(target), "login") {
		why = " The target looks like a login page: the path is not the API endpoint."
	}
	return &sdk.Diagnosis{
		Code: "whmcs.redirected", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("The API endpoint answered HTTP %d, a redirect to %s. pbxwatch does not follow it: following a redirect turns the POST into a GET and drops the identifier, secret and action.%s", rep.status, target, why),
		Remediation: []string{
			fmt.Sprintf("Set `url: %s` in this check's config.", suggested),
			"Use the same address in every integration that calls the WHMCS API: they lose their credentials on this redirect too.",
		},
		Details: d,
	}
}

// isHTTP reports whether target is an absolute http or https URL.
func isHTTP(target string) bool {
	u, err := url.Parse(target)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// suggestedURL keeps the form the operator used (root or full endpoint)
// and takes scheme, host and path from the redirect target.
func suggestedURL(configured, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(strings.TrimSuffix(configured, "/"), apiPath) {
		u.Path = strings.TrimSuffix(u.Path, apiPath)
	}
	return u.String()
}
