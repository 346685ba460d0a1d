package freepbx

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// Stable diagnosis codes: alerts and runbooks key on them.
const (
	codeInvalidClient       = "freepbx.invalid_client"
	codeUnsupportedGrant    = "freepbx.unsupported_grant_type"
	codeInvalidScope        = "freepbx.invalid_scope"
	codeMissingScope        = "freepbx.missing_scope"
	codeQueryNotPermitted   = "freepbx.query_not_permitted"
	codeTokenRejected       = "freepbx.token_rejected"
	codeAjaxDeclined        = "freepbx.ajax_declined"
	codeReferrerDeclined    = "freepbx.referrer_declined"
	codeNotAuthenticated    = "freepbx.not_authenticated"
	codeAPIModuleMissing    = "freepbx.api_module_missing"
	codeExtensionMissing    = "freepbx.extension_missing"
	codeUnreachable         = "freepbx.unreachable"
	codeTimeout             = "freepbx.timeout"
	codeTLSError            = "freepbx.tls_error"
	codeServerError         = "freepbx.server_error"
	codeUnexpectedResponse  = "freepbx.unexpected_response"
	apps                    = "Connectivity → API → Applications"
	stepUseAPIEndpoints     = "Point the client at the API endpoints: POST <url>/admin/api/api/token for tokens and POST <url>/admin/api/api/gql for GraphQL (REST: <url>/admin/api/api/rest/...). They need no GUI session and skip the Referer check; /admin/api/api/resource, shown as \"Resource URL\" in " + apps + ", does not exist."
	stepFixOverrides        = "Fix token_url / graphql_url in this check (and the same setting in the integration), or drop them to use the addresses derived from url."
	stepBanned              = "A ban drops or rejects this host's packets without an answer: check FreePBX's Intrusion Detection (fail2ban: `fail2ban-client status` and each jail's banned IPs, e.g. `fail2ban-client set apache-auth unbanip <ip>`) and the FreePBX Firewall; add pbxwatch's address to Intrusion Detection's whitelist or `fwconsole firewall trust <ip>`."
	stepCheckSchemeHostPort = "Check url: scheme (http/https), host and port of the FreePBX web server; if System Admin → Port Management gives the API its own port (restapi/sslrestapi), use that."
)

func critical(code, msg string, details map[string]string, steps ...string) sdk.Diagnosis {
	return sdk.Diagnosis{Code: code, Severity: sdk.SeverityCritical, Message: msg, Remediation: steps, Details: details}
}

func withServer(d map[string]string, b apiBody) map[string]string {
	if s := b.server(); s != "" {
		d["server"] = s
	}
	if e := b.errorCode(); e != "" {
		d["error"] = e
	}
	if b.Hint != "" {
		d["hint"] = b.Hint
	}
	return d
}

func diagInvalidClient(c *config, ex *exchange, b apiBody) sdk.Diagnosis {
	d := withServer(evidence(ex), b)
	d["client_id"] = c.ClientID
	secretAt := "client_secret"
	if c.ClientSecretFile != "" {
		secretAt = c.ClientSecretFile
	}
	typeStep := "Check the application's type is \"Machine-to-Machine app\" (client_credentials). FreePBX 16 refuses any other type (Web-server, Native, Single Page) for this grant with the same invalid_client, and the type cannot be edited: add a new Machine-to-Machine application instead."
	if strings.HasPrefix(d["server"], "FreePBX 17") {
		typeStep = "Check the application's type is \"Machine-to-Machine app\" (client_credentials); FreePBX 17 does not check the type, so the id or the secret is wrong."
	}
	return critical(codeInvalidClient,
		fmt.Sprintf("FreePBX refused client_id %s: 401 invalid_client (\"Client authentication failed\"): unknown Client ID, wrong Client Secret, or an application that is not Machine-to-Machine.", c.ClientID), d,
		fmt.Sprintf("In %s, look for the application with Client ID %s; if there is none, it was deleted or the id is mistyped: copy the Client ID of a Machine-to-Machine application into client_id.", apps, c.ClientID),
		typeStep,
		fmt.Sprintf("FreePBX stores only a hash of the Client Secret and shows it once, when the application is created: if %s does not hold that value, regenerate the application's secret (newer API module versions offer this) or add a new Machine-to-Machine application, and put the new Client Secret (and Client ID) into this check and the integration.", secretAt),
	)
}

func diagUnsupportedGrant(ex *exchange, b apiBody) sdk.Diagnosis {
	return critical(codeUnsupportedGrant,
		fmt.Sprintf("The token endpoint %s does not accept grant_type=client_credentials: 400 unsupported_grant_type.", ex.url), withServer(evidence(ex), b),
		"Check token_url: it must be FreePBX's /admin/api/api/token; another OAuth server or a proxy answered.",
		"Update the API module (Admin → Module Admin, or `fwconsole ma upgrade api && fwconsole reload`): FreePBX's API enables client_credentials in every release.",
		"Make sure nothing between pbxwatch and FreePBX rewrites the form body (grant_type, client_id and client_secret must arrive as application/x-www-form-urlencoded).",
	)
}

func diagInvalidScope(c *config, ex *exchange, b apiBody, scope string) sdk.Diagnosis {
	d := withServer(evidence(ex), b)
	d["scope"] = scope
	d["requested_scopes"] = strings.Join(c.Scopes, " ")
	name := scope
	if name == "" {
		name = "a requested scope"
	}
	return critical(codeInvalidScope,
		fmt.Sprintf("FreePBX refused the requested scope %s: 400 invalid_scope (unknown, or outside the application's allowed scopes).", name), d,
		fmt.Sprintf("In %s, edit application %s and add %s to its Allowed Scopes (the Scope Visualizer lists the valid ones); FreePBX 16 grants only scopes within the allowed ones.", apps, c.ClientID, name),
		"If the scope names a module (gql:<module>...), check that module is installed and enabled (`fwconsole ma list`): a disabled module's scopes do not exist.",
		"Or drop it from this check's scopes: without scopes FreePBX grants the application's Allowed Scopes.",
	)
}

func diagMissingScope(c *config, tok *grantedToken, missing []string) sdk.Diagnosis {
	d := map[string]string{
		"client_id": c.ClientID, "granted_scopes": strings.Join(tok.scopes, " "),
		"required_scopes": strings.Join(c.RequiredScopes, " "), "missing_scopes": strings.Join(missing, " "),
	}
	steps := []string{
		fmt.Sprintf("In %s, edit application %s and add %s to its Allowed Scopes (a broader scope such as gql:core or gql also covers it).", apps, c.ClientID, strings.Join(missing, " and ")),
	}
	if len(c.Scopes) > 0 {
		steps = append(steps, fmt.Sprintf("This check requests scopes %s: add %s there too (or drop scopes to get the application's Allowed Scopes).", strings.Join(c.Scopes, " "), strings.Join(missing, " ")))
	}
	for _, m := range missing {
		for _, g := range tok.scopes {
			if strings.HasPrefix(g, m+":") {
				steps = append(steps, fmt.Sprintf("%s is narrower than %s and does not cover it: FreePBX checks %s itself (fetchAllExtensions needs gql:core:read, gql:core or gql).", g, m, m))
			}
		}
	}
	steps = append(steps, "Tokens keep their scopes for their hour: integrations must fetch a new token after the change.")
	return critical(codeMissingScope,
		fmt.Sprintf("The token FreePBX granted (scopes: %s) does not cover %s from required_scopes.", orNone(tok.scopes), strings.Join(missing, ", ")), d, steps...)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

func diagQueryNotPermitted(ex *exchange, tok *grantedToken, fields []string) sdk.Diagnosis {
	d := evidence(ex)
	d["fields"] = strings.Join(fields, " ")
	d["granted_scopes"] = strings.Join(tok.scopes, " ")
	var steps []string
	for _, f := range fields {
		need, known := fieldScopes[f]
		switch {
		case known && covered(tok.scopes, need):
			module := strings.Split(need, ":")[1]
			steps = append(steps, fmt.Sprintf("The token's scopes cover %s, which %s needs, so the %s module is disabled or not installed: enable it in Admin → Module Admin (`fwconsole ma enable %s && fwconsole reload`).", need, f, module, module))
		case known:
			steps = append(steps, fmt.Sprintf("%s needs scope %s (or broader): add it to the application's Allowed Scopes in %s.", f, need, apps))
		default:
			steps = append(steps, fmt.Sprintf("Add the scope of the module providing %s to the application's Allowed Scopes in %s, and check that module is enabled (`fwconsole ma list`).", f, apps))
		}
	}
	steps = append(steps, "Check probe_query for typos: field names are case-sensitive.")
	quirk := ""
	if ex.status == 200 {
		quirk = " FreePBX 17 sends this with HTTP 200, so clients that only look at the status miss it."
	}
	return critical(codeQueryNotPermitted,
		fmt.Sprintf("FreePBX's GraphQL schema has no %s for this token (`Cannot query field %q on type \"Query\"`, HTTP %d): a scope is missing or the module is disabled.%s", strings.Join(fields, ", "), fields[0], ex.status, quirk), d, steps...)
}

func diagTokenRejected(ex *exchange, b apiBody, tok *grantedToken) sdk.Diagnosis {
	d := withServer(evidence(ex), b)
	if !tok.expiry.IsZero() {
		d["token_expiry"] = tok.expiry.UTC().Format("2006-01-02T15:04:05Z")
	}
	verify := "\"could not be verified\": FreePBX cannot verify the signature of its own token: the API key pair changed (an API module update regenerates /etc/asterisk/keys/api_oauth.key) or another server behind the same address issued it; reload FreePBX (`fwconsole reload`) and fetch a new token."
	revoked := "\"has been revoked\": FreePBX keeps no record of the token: it was revoked in " + apps + ", or purged as expired because the database's clock or time zone differs from PHP's (compare `date` with `mysql -e 'SELECT NOW()'` on the PBX)."
	invalid := "\"is invalid\": the token is expired or not yet valid by FreePBX's clock: sync the clocks (chrony/NTP)."
	var steps []string
	switch {
	case strings.Contains(b.Hint, "verified"):
		steps = []string{verify}
	case strings.Contains(b.Hint, "revoked"):
		steps = []string{revoked}
	case strings.Contains(b.Hint, "invalid"):
		steps = []string{invalid}
	default:
		steps = []string{"FreePBX 17 hides the reason in a 500 error page; one of: " + verify, revoked, invalid}
	}
	steps = append(steps, "Clients must request a new token when one is rejected; tokens live one hour.")
	how := fmt.Sprintf("401 access_denied: %s", b.Hint)
	switch {
	case b.errorCode() == "" && !oauthException(b):
		// The HTML error page: it names the exception and, maybe, the
		// reason; it says nothing of access_denied.
		how = fmt.Sprintf("an OAuthServerException on the framework's HTTP %d error page", ex.status)
		if b.Hint != "" {
			how += fmt.Sprintf(": \"%s\"", b.Hint)
		}
	case ex.status != 401:
		how = fmt.Sprintf("access_denied wrapped in an HTTP %d error page, as FreePBX 17 does", ex.status)
	}
	return critical(codeTokenRejected, fmt.Sprintf("FreePBX rejected the access token it had just issued (%s).", how), d, steps...)
}

func diagAjaxDeclined(ex *exchange) sdk.Diagnosis {
	return critical(codeAjaxDeclined,
		fmt.Sprintf("FreePBX declined %s: 403 {\"error\":\"ajaxRequest declined\"}: the module does not accept that command, so the path is wrong.", pathOf(ex.url)), evidence(ex),
		stepUseAPIEndpoints, stepFixOverrides)
}

func diagReferrer(ex *exchange) sdk.Diagnosis {
	return critical(codeReferrerDeclined,
		fmt.Sprintf("FreePBX declined %s for its Referer: 403 \"ajaxRequest declined - Referrer\": the URL reaches a GUI command meant for a browser session, not the API.", pathOf(ex.url)), evidence(ex),
		stepUseAPIEndpoints, stepFixOverrides,
		"Do not turn off Settings → Advanced Settings → Check Referer (CHECKREFERER) for this: API commands do not need it.")
}

func diagNotAuthenticated(ex *exchange) sdk.Diagnosis {
	return critical(codeNotAuthenticated,
		fmt.Sprintf("FreePBX answered 401 \"Not Authenticated\" for %s: that command needs a logged-in GUI session and does not take OAuth tokens.", pathOf(ex.url)), evidence(ex),
		stepUseAPIEndpoints, stepFixOverrides)
}

func diagAPIModuleMissing(ex *exchange, exception string) sdk.Diagnosis {
	d := evidence(ex)
	d["exception"] = frontlayer.Field(exception, 300)
	return critical(codeAPIModuleMissing,
		fmt.Sprintf("FreePBX's framework cannot load the API module at %s: %s. The module is not installed, or its files are gone.", ex.url, d["exception"]), d,
		"In Admin → Module Admin install and enable \"API\" (or `fwconsole ma downloadinstall api && fwconsole ma enable api && fwconsole reload`), then create the Machine-to-Machine application in "+apps+".",
		"If Module Admin lists it as enabled, reinstall it (`fwconsole ma install api`) and run `fwconsole chown`: the files under /var/www/html/admin/modules/api must exist and be readable by Apache.")
}

func diagUnreachable(ex *exchange, d map[string]string) sdk.Diagnosis {
	return critical(codeUnreachable, fmt.Sprintf("Cannot connect to %s: %v.", ex.url, ex.err), d,
		stepCheckSchemeHostPort,
		"Check the FreePBX web server runs (`systemctl status apache2` or httpd) and that the firewall (FreePBX Firewall, Responsive Firewall) lets pbxwatch's address reach it.",
		stepBanned)
}

// diagNotHTTP: the port answered, but not in HTTP/1.x (HTTP/0.9, another
// protocol, a malformed header): not a failure to connect.
func diagNotHTTP(ex *exchange, d map[string]string) sdk.Diagnosis {
	return critical(codeUnreachable, fmt.Sprintf("%s accepted the connection but did not answer in HTTP/1.x: %v.", ex.url, ex.err), d,
		stepCheckSchemeHostPort,
		"Something other than the FreePBX web server answers on that port, or a proxy mangles the answer: `curl -v` the URL to see what comes back.")
}

// diagBrokenAnswer: the server answered (a status) and the connection broke
// in the middle of the body.
func diagBrokenAnswer(endpoint string, ex *exchange, d map[string]string) sdk.Diagnosis {
	d["body_error"] = ex.err.Error()
	return critical(codeUnreachable, fmt.Sprintf("The %s request to %s got HTTP %d, then the connection broke in the middle of the body (%v): the answer is incomplete.", endpoint, ex.url, ex.status, ex.err), d,
		"Look at the FreePBX web server's error log (Apache, PHP-FPM) for a crashed worker at that time, and for a firewall, IPS or proxy that resets connections from this address.",
		stepBanned)
}

func diagTimeout(endpoint string, ex *exchange, d map[string]string) sdk.Diagnosis {
	return critical(codeTimeout, fmt.Sprintf("The %s request to %s did not finish within the check's timeout.", endpoint, ex.url), d,
		"Look at the FreePBX host's load and the Apache/PHP-FPM error logs: the API answers in well under a second normally.",
		stepBanned,
		"If the PBX is just slow, raise the check's timeout.")
}

func diagTLS(ex *exchange, d map[string]string) sdk.Diagnosis {
	return critical(codeTLSError, fmt.Sprintf("TLS with %s failed: %v.", ex.url, ex.err), d,
		"If FreePBX uses its own or a private CA's certificate, set tls.ca_file to that CA (Admin → Certificate Management shows the default certificate).",
		"If the name in the certificate differs from url's host, use that name in url or set tls.server_name.",
		"If url says https but the server speaks http (or the reverse), fix the scheme.")
}

func diagServerError(endpoint string, ex *exchange) sdk.Diagnosis {
	return critical(codeServerError, fmt.Sprintf("FreePBX's %s endpoint failed with HTTP %d: %s", endpoint, ex.status, excerpt(ex.body)), evidence(ex),
		"Read the PHP and Apache error logs on the PBX (/var/log/httpd/error_log or /var/log/apache2/error.log) and /var/log/asterisk/freepbx.log around this time.",
		"Check the API keys are readable by the web server: /etc/asterisk/keys/api_oauth.key and api_oauth_public.key, owned by asterisk.",
		"Run `fwconsole chown && fwconsole reload`; if the API module is broken, `fwconsole ma upgrade api`.")
}

func diagRedirect(endpoint string, ex *exchange) sdk.Diagnosis {
	d := evidence(ex)
	loc := ex.header.Get("Location")
	d["location"] = loc
	if u, err := url.Parse(loc); err != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		// A file:, javascript: or other non-web target is never the
		// address to use: a misconfiguration or an attack.
		return critical(codeUnexpectedResponse, fmt.Sprintf("FreePBX's %s endpoint redirected (%d) to %s, which is not an http(s) address: no FreePBX API is there.", endpoint, ex.status, loc), d,
			"Find what answers with this redirect on the PBX (a rewrite rule, .htaccess, a proxy) and remove it; keep url pointing at FreePBX over https.")
	}
	return critical(codeUnexpectedResponse, fmt.Sprintf("FreePBX's %s endpoint redirected (%d) to %s instead of answering: OAuth POSTs cannot follow redirects.", endpoint, ex.status, loc), d,
		"Set url (or token_url/graphql_url) to the address the redirect points at, typically https:// instead of http://.")
}

// diagUnexpected reports an answer no known cause explains, quoting what
// came back (status, server, title, an excerpt) instead of guessing.
func diagUnexpected(endpoint string, ex *exchange, what string) sdk.Diagnosis {
	d := evidence(ex)
	d["endpoint"] = endpoint
	addPageEvidence(d, ex)
	var seen []string
	if ex.status != 0 {
		seen = append(seen, fmt.Sprintf("HTTP %d", ex.status))
	}
	if s := d["server_header"]; s != "" {
		seen = append(seen, "server "+frontlayer.Quote(s))
	}
	if t := d["page_title"]; t != "" {
		seen = append(seen, "title "+frontlayer.Quote(t))
	}
	if b := d["body"]; b != "" {
		seen = append(seen, "body "+frontlayer.Quote(frontlayer.Field(b, 120)))
	} else if ex.status != 0 {
		seen = append(seen, "empty body")
	}
	return critical(codeUnexpectedResponse, fmt.Sprintf("Unrecognised answer from %s (cause unknown): %s; %s.", ex.url, strings.Join(seen, ", "), what), d,
		"Open the URL from the pbxwatch host (`curl -si -X POST "+ex.url+"`) and find out what answers there: FreePBX's API answers JSON (OAuth errors such as invalid_client, GraphQL {\"data\"} or {\"errors\"}); a proxy, firewall, login page or another application does not.",
		stepFixOverrides)
}

func diagExtensionMissing(expected, missing []string, total int) sdk.Diagnosis {
	return sdk.Diagnosis{
		Code: codeExtensionMissing, Severity: sdk.SeverityWarning,
		Message: fmt.Sprintf("Extension(s) %s from expected_extensions are not on the PBX (it lists %d).", strings.Join(missing, ", "), total),
		Remediation: []string{
			"Check the provisioning that should create them (the integration's sync log or job) for errors.",
			"Add them in Applications → Extensions (or re-run provisioning), then Apply Config.",
			"If they were removed on purpose, drop them from expected_extensions.",
		},
		Details: map[string]string{"missing": strings.Join(missing, " "), "expected": strings.Join(expected, " ")},
	}
}

// absent returns the expected ids not in have.
func absent(expected, have []string) []string {
	var out []string
	for _, e := range expected {
		if !slices.Contains(have, e) {
			out = append(out, e)
		}
	}
	return out
}
