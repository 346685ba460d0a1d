package whmcs

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk"
)

func TestHealthyInstall(t *testing.T) {
	res := runCheck(t, simConfig("/"))
	if res.Status != sdk.StatusOK || len(res.Diagnoses) != 0 {
		t.Fatalf("want OK without diagnoses, got %s %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	mustContain(t, "summary", res.Summary, "WHMCS 8.13.1 API OK", "3/3 required actions allowed")
	if metric(t, res, "whmcs_api_up", nil) != 1 || metric(t, res, "whmcs_info", map[string]string{"version": "8.13.1"}) != 1 {
		t.Fatal("api_up or info wrong")
	}
	for _, a := range []string{"WhmcsDetails", "GetClients", "GetClientsProducts", "GetProducts"} {
		if metric(t, res, "whmcs_action_allowed", map[string]string{"action": a}) != 1 {
			t.Errorf("%s not allowed", a)
		}
	}
	if metric(t, res, "whmcs_api_response_seconds", nil) <= 0 {
		t.Error("response time not measured")
	}
	if hasMetric(res, "whmcs_tls_cert_expiry_timestamp_seconds") {
		t.Error("cert expiry reported over plain http")
	}
}

func TestEnvelopeVariantsAndLegacyVersions(t *testing.T) {
	// "status" instead of "result" is read the same way.
	if res := runCheck(t, simConfig("/status_envelope/")); res.Status != sdk.StatusOK {
		t.Fatalf("status envelope: %s %+v", res.Status, res.Diagnoses)
	}
	// WHMCS 7 has no WhmcsDetails: GetAdminDetails gives the version and
	// no invalid_action is reported for the plugin's own probe.
	res := runCheck(t, simConfig("/legacy/"))
	if res.Status != sdk.StatusOK || metric(t, res, "whmcs_info", map[string]string{"version": "7.10.2"}) != 1 {
		t.Fatalf("legacy: %s %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
}

func TestInvalidIPOfThisHost(t *testing.T) {
	res := runCheck(t, simConfig("/invalid_ip/"))
	d := diagnosis(t, res, "whmcs.invalid_ip")
	if res.Status != sdk.StatusCritical || d.Details["ip"] != "127.0.0.1" || d.Details["http_status"] != "403" || d.Details["ip_is_this_host"] != "true" {
		t.Fatalf("%s %+v", res.Status, d)
	}
	// WHMCS refused before telling its version: both page names.
	mustContain(t, "remediation", steps(d),
		"Configuration (wrench icon) > System Settings > General Settings, Security tab",
		"WHMCS 7: Setup > General Settings, Security tab",
		"API IP Access Restriction", "Add IP, enter 127.0.0.1", "no CIDR",
		"$api_access_key", "access_key_file", "pbxwatch check whmcs_auth")
	if strings.Contains(steps(d), "Trusted Prox") {
		t.Error("Trusted Proxies suggested although WHMCS saw this host's own address")
	}
	if metric(t, res, "whmcs_api_up", nil) != 0 || hasMetric(res, "whmcs_action_allowed") {
		t.Error("api_up must be 0 and no action verdicts without authentication")
	}
	if !strings.HasPrefix(res.Summary, "WHMCS refuses API calls from this host's address 127.0.0.1") {
		t.Errorf("summary %q", res.Summary)
	}
}

func TestInvalidIPAnsweredWith400(t *testing.T) {
	d := diagnosis(t, runCheck(t, simConfig("/invalid_ip_400/")), "whmcs.invalid_ip")
	if d.Details["http_status"] != "400" || d.Details["ip"] != "127.0.0.1" {
		t.Fatalf("%+v", d)
	}
}

func TestAccessKeyBypassesIPCheck(t *testing.T) {
	res := runCheck(t, simConfig("/invalid_ip/", "access_key: "+whmcssim.DefaultAccessKey))
	if res.Status != sdk.StatusOK {
		t.Fatalf("the access key was not sent: %s %+v", res.Status, res.Diagnoses)
	}
	res = runCheck(t, simConfig("/invalid_ip/", "access_key: not-the-key"))
	mustContain(t, "remediation", steps(diagnosis(t, res, "whmcs.invalid_ip")), "does not match $api_access_key in configuration.php")
}

func TestInvalidIPBehindCloudflare(t *testing.T) {
	d := diagnosis(t, runCheck(t, simConfig("/invalid_ip_cloudflare/")), "whmcs.invalid_ip")
	if d.Details["ip"] != "172.70.210.15" || d.Details["proxy"] != "cloudflare" || d.Details["cf_ray"] == "" {
		t.Fatalf("%+v", d)
	}
	mustContain(t, "message", d.Message, "Cloudflare address", "Trusted Proxies")
	mustContain(t, "first step", d.Remediation[0], "Trusted Proxies", "CF-Connecting-IP", "https://www.cloudflare.com/ips/")
}

func TestInvalidIPBehindLoadBalancer(t *testing.T) {
	d := diagnosis(t, runCheck(t, simConfig("/invalid_ip_lb/")), "whmcs.invalid_ip")
	if d.Details["ip"] != "10.20.0.5" || d.Details["local_address"] != "127.0.0.1" {
		t.Fatalf("%+v", d)
	}
	mustContain(t, "first step", d.Remediation[0], "reverse proxy or load balancer", "Trusted Proxy List", "X-Forwarded-For", "Do not allow-list the proxy")
	mustContain(t, "second step", d.Remediation[1], "NAT", "Add IP, enter 10.20.0.5")
}

func TestCredentials(t *testing.T) {
	wrongSecret := strings.Replace(simConfig("/"), whmcssim.DefaultSecret, "not-the-secret", 1)
	res := runCheck(t, wrongSecret)
	d := diagnosis(t, res, "whmcs.auth_failed")
	if res.Status != sdk.StatusCritical || d.Details["identifier"] != whmcssim.DefaultIdentifier[:6]+"…" {
		t.Fatalf("%s %+v", res.Status, d)
	}
	mustContain(t, "remediation", steps(d), "secret_file", "shows a secret only once", "MD5")

	unknownID := strings.Replace(simConfig("/"), whmcssim.DefaultIdentifier, "someOtherIdentifier12345", 1)
	d = diagnosis(t, runCheck(t, unknownID), "whmcs.invalid_credentials")
	mustContain(t, "diagnosis", d.Message+steps(d), "someOt…", "disabled or deleted", "Generate New API Credential", "API Access")
}

func TestPermissionDenied(t *testing.T) {
	res := runCheck(t, simConfig("/restricted/"))
	d := diagnosis(t, res, "whmcs.permission_denied")
	if res.Status != sdk.StatusWarning || d.Severity != sdk.SeverityWarning {
		t.Fatalf("some actions denied must warn: %s %+v", res.Status, d)
	}
	if d.Details["denied"] != "GetClients, GetClientsProducts" || d.Details["allowed"] != "WhmcsDetails, GetProducts" {
		t.Fatalf("%+v", d.Details)
	}
	// The message came as \u0022getclients\u0022 and is shown decoded.
	mustContain(t, "message", d.Message, `API action "getclients" is not allowed`)
	mustContain(t, "remediation", steps(d),
		"Configuration (wrench icon) > System Settings > Manage API Credentials, API Roles tab",
		"tick Client > GetClients, Client > GetClientsProducts", "API Access")
	if metric(t, res, "whmcs_action_allowed", map[string]string{"action": "GetClients"}) != 0 ||
		metric(t, res, "whmcs_action_allowed", map[string]string{"action": "GetProducts"}) != 1 ||
		metric(t, res, "whmcs_api_up", nil) != 1 {
		t.Fatal("metrics")
	}
}

func TestPermissionDeniedForWhmcsDetailsOnly(t *testing.T) {
	res := runCheck(t, simConfig("/restricted_no_details/"))
	d := diagnosis(t, res, "whmcs.permission_denied")
	if res.Status != sdk.StatusWarning || d.Details["denied"] != "WhmcsDetails" {
		t.Fatalf("%s %+v", res.Status, d)
	}
	mustContain(t, "diagnosis", d.Message+steps(d), "reads the WHMCS version", "System > WhmcsDetails")
	if hasMetric(res, "whmcs_info") {
		t.Error("version reported although WHMCS did not tell it")
	}
}

func TestNothingAllowedIsCritical(t *testing.T) {
	res := runCheck(t, simConfig("/no_api_actions/"))
	if d := diagnosis(t, res, "whmcs.permission_denied"); res.Status != sdk.StatusCritical || d.Severity != sdk.SeverityCritical {
		t.Fatalf("%s %+v", res.Status, d)
	}
}

func TestInvalidAction(t *testing.T) {
	cfg := simConfig("/", "required_actions: [GetClients, GetSystemStats]")
	res := runCheck(t, cfg)
	d := diagnosis(t, res, "whmcs.invalid_action")
	if res.Status != sdk.StatusWarning || d.Details["actions"] != "GetSystemStats" || d.Details["suggestions"] != "GetSystemStats with GetStats" {
		t.Fatalf("%s %+v", res.Status, d)
	}
	mustContain(t, "evidence", d.Details["whmcs_messages"], `Invalid API Action: "getsystemstats" is not a valid API action`)

	// With a restricted role WHMCS says Invalid Permissions instead; the
	// name is still recognised as nonexistent, not as a role problem.
	res = runCheck(t, simConfig("/restricted/", "required_actions: [GetProducts, GetSystemStats]"))
	d = diagnosis(t, res, "whmcs.invalid_action")
	mustContain(t, "message", d.Message, "does not prove the action exists")
	for _, other := range res.Diagnoses {
		if other.Code == "whmcs.permission_denied" {
			t.Fatalf("nonexistent action reported as a role problem: %+v", other)
		}
	}
}

func TestEdgeBlocks(t *testing.T) {
	cases := []struct {
		path, layer string
		details     map[string]string
		mentions    []string
	}{
		{"/cloudflare_block/", "cloudflare", map[string]string{"cloudflare_error_code": "1020", "cf_ray": "8f3a61c2bd0e4a17-FRA"}, []string{"Security > Events", "Ray ID 8f3a61c2bd0e4a17-FRA", "Skip"}},
		{"/cloudflare_json/", "cloudflare", map[string]string{"cloudflare_error_code": "1020", "cf_ray": "8f3a61c2bd0e4a17", "page_title": "Error 1020: Access denied"}, []string{"error 1020"}},
		{"/cloudflare_challenge/", "cloudflare_challenge", nil, []string{"cf-mitigated: challenge", "Bot Fight Mode"}},
		{"/modsecurity/", "apache", map[string]string{"page_title": "403 Forbidden", "server": "Apache/2.4.62 (Debian)"}, []string{"ModSecurity: Access denied with code 403", "SecRuleRemoveById"}},
		{"/nginx_deny/", "nginx", map[string]string{"server": "nginx"}, []string{"access forbidden by rule"}},
		{"/litespeed/", "litespeed", nil, []string{"Imunify360"}},
		{"/empty_403/", "empty", nil, []string{"fail2ban", "fresh connection"}},
	}
	for _, c := range cases {
		t.Run(strings.Trim(c.path, "/"), func(t *testing.T) {
			// oidc: true, yet the OpenID Connect endpoints behind the same
			// block are not reported as a second problem.
			res := runCheck(t, simConfig(c.path, "oidc: true"))
			d := diagnosis(t, res, "whmcs.edge_blocked")
			if res.Status != sdk.StatusCritical || d.Details["layer"] != c.layer || d.Details["http_status"] != "403" {
				t.Fatalf("%s %+v", res.Status, d)
			}
			for k, v := range c.details {
				if d.Details[k] != v {
					t.Errorf("details[%s] = %q, want %q", k, d.Details[k], v)
				}
			}
			mustContain(t, "diagnosis", d.Message+steps(d), c.mentions...)
			if len(res.Diagnoses) != 1 {
				t.Errorf("one cause, several diagnoses: %+v", res.Diagnoses)
			}
		})
	}
}

func TestWrongEndpoint(t *testing.T) {
	d := diagnosis(t, runCheck(t, simConfig("/not_found/")), "whmcs.wrong_endpoint")
	if d.Details["http_status"] != "404" {
		t.Fatalf("%+v", d)
	}
	d = diagnosis(t, runCheck(t, simConfig("/maintenance/")), "whmcs.wrong_endpoint")
	if d.Details["http_status"] != "200" || d.Details["page_title"] != "Down for Maintenance - Example Billing" {
		t.Fatalf("%+v", d)
	}
	mustContain(t, "remediation", steps(d), "Maintenance Mode")
	d = diagnosis(t, runCheck(t, simConfig("/includes/api.php/includes/api.php")), "whmcs.wrong_endpoint")
	if d.Details["whmcs_message"] != "An admin user is required" || d.Details["suggested_url"] != sim.url+"/includes/api.php" {
		t.Fatalf("%+v", d)
	}
}

func TestRedirects(t *testing.T) {
	u, _ := url.Parse(sim.url)
	d := diagnosis(t, runCheck(t, simConfig("/redirect_https/")), "whmcs.redirected")
	if d.Details["http_status"] != "301" || d.Details["location"] != "https://"+u.Host+"/redirect_https/includes/api.php" || d.Details["suggested_url"] != "https://"+u.Host+"/redirect_https/" {
		t.Fatalf("%+v", d)
	}
	mustContain(t, "message", d.Message, "turns the POST into a GET", "forces HTTPS")
	// A relative Location is resolved; the configured form (full endpoint) is kept.
	d = diagnosis(t, runCheck(t, simConfig("/redirect_path/includes/api.php")), "whmcs.redirected")
	if d.Details["location"] != sim.url+"/ok/includes/api.php" || d.Details["suggested_url"] != sim.url+"/ok/includes/api.php" {
		t.Fatalf("%+v", d)
	}
}

func TestTransportFailures(t *testing.T) {
	res := runCheck(t, simConfig("/slow/", "request_timeout: 300ms"))
	d := diagnosis(t, res, "whmcs.timeout")
	if res.Status != sdk.StatusCritical || len(res.Diagnoses) != 1 {
		t.Fatalf("%s %+v", res.Status, res.Diagnoses)
	}
	mustContain(t, "remediation", steps(d), "PHP-FPM", "request_timeout")

	d = diagnosis(t, runCheck(t, simConfig("/hangup/")), "whmcs.unreachable")
	mustContain(t, "remediation", steps(d), "closed the connection")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/"
	l.Close()
	d = diagnosis(t, runCheck(t, strings.Replace(simConfig("/"), sim.url+"/", dead, 1)), "whmcs.unreachable")
	mustContain(t, "diagnosis", d.Message+steps(d), "connection refused", "Nothing listens")
}

func TestServerErrorsAndUnexpectedAnswers(t *testing.T) {
	d := diagnosis(t, runCheck(t, simConfig("/server_error/")), "whmcs.server_error")
	if d.Details["http_status"] != "500" || d.Details["page_title"] != "Oops! Something went wrong." {
		t.Fatalf("%+v", d)
	}
	d = diagnosis(t, runCheck(t, simConfig("/bad_gateway/")), "whmcs.server_error")
	mustContain(t, "remediation", steps(d), "PHP-FPM")
	d = diagnosis(t, runCheck(t, simConfig("/unexpected/")), "whmcs.unexpected_response")
	if d.Details["body_excerpt"] != `{"ok":true,"service":"billing-proxy"}` {
		t.Fatalf("%+v", d)
	}
}

func TestOpenIDConnect(t *testing.T) {
	res := runCheck(t, simConfig("/", "oidc: true"))
	if res.Status != sdk.StatusOK || metric(t, res, "whmcs_oidc_up", nil) != 1 {
		t.Fatalf("%s %+v", res.Status, res.Diagnoses)
	}
	mustContain(t, "summary", res.Summary, "OpenID Connect OK")
	cases := []struct{ path, code, mention string }{
		{"/oidc_missing/", "whmcs.oidc_discovery_failed", "RewriteRule ^.well-known/openid-configuration"},
		{"/oidc_issuer_mismatch/", "whmcs.oidc_discovery_failed", "System URL"},
		{"/oidc_no_keys/", "whmcs.oidc_keys_invalid", "the key set is empty"},
		{"/oidc_jwks_down/", "whmcs.oidc_keys_invalid", "HTTP 500"},
		{"/oidc_bad_key/", "whmcs.oidc_keys_invalid", "modulus n is missing"},
	}
	for _, c := range cases {
		t.Run(strings.Trim(c.path, "/"), func(t *testing.T) {
			res := runCheck(t, simConfig(c.path, "oidc: true"))
			d := diagnosis(t, res, c.code)
			if res.Status != sdk.StatusCritical || metric(t, res, "whmcs_oidc_up", nil) != 0 || metric(t, res, "whmcs_api_up", nil) != 1 {
				t.Fatalf("%s %+v", res.Status, res.Diagnoses)
			}
			mustContain(t, "diagnosis", d.Message+steps(d), c.mention)
		})
	}
}
