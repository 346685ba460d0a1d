package whmcs

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Diagnoses of WHMCS's own answers: the caller's IP, the credential, the
// API role, the action name, the endpoint path.

func (r *run) details(rep *reply, whmcsMessage string) map[string]string {
	d := map[string]string{"url": rep.url}
	if rep.status != 0 {
		d["http_status"] = strconv.Itoa(rep.status)
	}
	if rep.action != "" {
		d["action"] = rep.action
	}
	if whmcsMessage != "" {
		d["whmcs_message"] = r.field(whmcsMessage)
	}
	if s := rep.header.Get("Server"); s != "" {
		d["server"] = r.field(s)
	}
	if r.version != "" {
		d["whmcs_version"] = r.version
	}
	return d
}

// idHint shows enough of the identifier to find the credential in the
// admin area, never all of it.
func (r *run) idHint() string {
	id := r.cfg.Identifier.Reveal()
	if len(id) < 12 {
		return "(the configured identifier)"
	}
	return id[:6] + "…"
}

func (r *run) accessKeyStep(p adminPages) string {
	if r.cfg.AccessKey != "" {
		return "An access_key is configured, yet WHMCS still applied the IP check: its value does not match $api_access_key in configuration.php in the WHMCS root (WHMCS then falls back to the IP list). Make the two identical."
	}
	return "Alternative when this host's address changes (dynamic IP, IPv6 privacy addresses): bypass the IP check with an access key. Add `$api_access_key = '<long random string>';` to configuration.php in the WHMCS root (letters, digits and ! @ # $ % . ( ) * [ ] - _ only), and set `access_key_file:` in this check's config to a file holding the same value. The key replaces only the IP check: the identifier and secret are still required."
}

func (r *run) invalidIP(rep *reply, ip, msg string) *sdk.Diagnosis {
	p := pagesFor(r.version)
	d := r.details(rep, msg)
	d["ip"] = ip
	if rep.localIP != "" {
		d["local_address"] = rep.localIP
	}
	seen := net.ParseIP(ip)
	allowStep := fmt.Sprintf("In the WHMCS admin area open %s. Under API IP Access Restriction click Add IP, enter %s, and Save Changes. The list takes single addresses only: no CIDR ranges, no wildcards (an empty list denies every caller).", p.security, ip)
	rerun := fmt.Sprintf("Run `pbxwatch check %s` again: it reports the address WHMCS sees.", r.name)
	switch {
	case seen != nil && r.isThisHost(seen, rep.localIP):
		d["ip_is_this_host"] = "true"
		return &sdk.Diagnosis{
			Code: "whmcs.invalid_ip", Severity: sdk.SeverityCritical,
			Message:     fmt.Sprintf("WHMCS refuses API calls from this host's address %s: it is not in the API IP Access Restriction list (HTTP %d \"%s\").", ip, rep.status, msg),
			Remediation: []string{allowStep, r.accessKeyStep(p), rerun},
			Details:     d,
		}
	case seen != nil && (isCloudflareIP(seen) || rep.header.Get("Cf-Ray") != ""):
		d["proxy"] = "cloudflare"
		if cf := r.field(rep.header.Get("Cf-Ray")); cf != "" {
			d["cf_ray"] = cf
		}
		what := "a Cloudflare address"
		if !isCloudflareIP(seen) {
			what = "not this host's address, and the reply came through Cloudflare (cf-ray header)"
		}
		return &sdk.Diagnosis{
			Code: "whmcs.invalid_ip", Severity: sdk.SeverityCritical,
			Message: fmt.Sprintf("WHMCS refuses the API call because it sees the caller as %s, which is %s: WHMCS is behind Cloudflare and Trusted Proxies is not set up, so it sees Cloudflare's edge instead of this host (HTTP %d \"%s\"). Do not allow-list Cloudflare addresses: that would admit anyone whose traffic passes through Cloudflare.", ip, what, rep.status, msg),
			Remediation: []string{
				fmt.Sprintf("Open %s, Trusted Proxies: set Proxy IP Header to CF-Connecting-IP and add Cloudflare's ranges (https://www.cloudflare.com/ips/) to the Trusted Proxy List (CIDR notation is accepted there). Save Changes.", p.security),
				fmt.Sprintf("Run `pbxwatch check %s` again: WHMCS now reports this host's real public address; add that one under API IP Access Restriction (single address, Add IP).", r.name),
				r.accessKeyStep(p),
			},
			Details: d,
		}
	default:
		proxyStep := fmt.Sprintf("If %s is a reverse proxy or load balancer in front of WHMCS: open %s, Trusted Proxies, add %s to the Trusted Proxy List and set Proxy IP Header to the header it sets (usually X-Forwarded-For). Do not allow-list the proxy itself: that would admit every caller behind it.", ip, p.security, ip)
		natStep := fmt.Sprintf("If %s is this host's public (NAT) address (`curl -s https://ifconfig.me` on this host prints it): open %s and under API IP Access Restriction click Add IP, enter %s, Save Changes. Single addresses only, no CIDR.", ip, p.security, ip)
		steps := []string{natStep, proxyStep}
		guess := "It is either this host's public address behind NAT, or a proxy or load balancer in front of WHMCS that WHMCS is not told to look through."
		if seen != nil && (seen.IsPrivate() || seen.IsLoopback()) {
			// A private address WHMCS sees that is not ours is almost
			// always the proxy's.
			steps = []string{proxyStep, natStep}
			guess = "Being a private address that is not this host's, it is most likely a reverse proxy or load balancer in front of WHMCS that WHMCS is not told to look through (Trusted Proxies)."
		}
		local := "unknown"
		if rep.localIP != "" {
			local = rep.localIP
		}
		return &sdk.Diagnosis{
			Code: "whmcs.invalid_ip", Severity: sdk.SeverityCritical,
			Message:     fmt.Sprintf("WHMCS refuses the API call from %s, which is not an address of this host (this host connected from %s). %s WHMCS answered HTTP %d \"%s\".", ip, local, guess, rep.status, msg),
			Remediation: append(steps, r.accessKeyStep(p), rerun),
			Details:     d,
		}
	}
}

// isThisHost tells whether WHMCS saw one of this host's own addresses.
func (r *run) isThisHost(ip net.IP, localIP string) bool {
	if l := net.ParseIP(localIP); l != nil && l.Equal(ip) {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// cloudflareRanges is Cloudflare's published edge address list
// (https://www.cloudflare.com/ips/), parsed on first use.
var cloudflareRanges = sync.OnceValue(func() []*net.IPNet {
	var out []*net.IPNet
	for _, c := range []string{
		"173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
		"108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
		"162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
		"2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
		"2a06:98c0::/29", "2c0f:f248::/32",
	} {
		_, n, _ := net.ParseCIDR(c)
		out = append(out, n)
	}
	return out
})

func isCloudflareIP(ip net.IP) bool {
	for _, n := range cloudflareRanges() {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func (r *run) invalidCredentials(rep *reply, msg string) *sdk.Diagnosis {
	p := pagesFor(r.version)
	d := r.details(rep, msg)
	d["identifier"] = r.idHint()
	return &sdk.Diagnosis{
		Code: "whmcs.invalid_credentials", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("WHMCS does not know the API identifier %s (HTTP %d \"%s\"): the credential was deleted, its admin user was disabled or deleted (which invalidates all of that admin's credentials), or the identifier is mistyped. This host's IP passed the allow-list.", r.idHint(), rep.status, msg),
		Remediation: []string{
			fmt.Sprintf("Open %s, API Credentials tab, and look for the identifier starting %s.", p.apiCreds, r.idHint()),
			fmt.Sprintf("If it is listed, open %s and check that its admin user is active: disabling or deleting an admin invalidates its API credentials.", p.adminUsers),
			"If it is missing: on the API Roles tab create a role with the actions this check lists (required_actions, plus System > WhmcsDetails), then on the API Credentials tab click Generate New API Credential for an active admin whose administrator role has the API Access permission, assign the role, and copy the identifier and the secret (shown only once) into identifier_file and secret_file.",
			"Check that identifier_file holds the identifier, not the secret or an admin username.",
		},
		Details: d,
	}
}

func (r *run) authFailed(rep *reply, msg string) *sdk.Diagnosis {
	p := pagesFor(r.version)
	d := r.details(rep, msg)
	d["identifier"] = r.idHint()
	return &sdk.Diagnosis{
		Code: "whmcs.auth_failed", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("WHMCS rejected the API secret for identifier %s (HTTP %d \"%s\"): the identifier exists, so the secret is wrong. This host's IP passed the allow-list.", r.idHint(), rep.status, msg),
		Remediation: []string{
			"Check that secret_file (or secret:) holds exactly the secret shown when the credential was created: no quotes, no other credential's secret. Surrounding whitespace is ignored.",
			fmt.Sprintf("WHMCS shows a secret only once. If it is lost, open %s, API Credentials tab, delete the credential with identifier %s and Generate New API Credential (same admin, same API role), then update identifier_file and secret_file.", p.apiCreds, r.idHint()),
			"If this is a pre-7.2 admin login (identifier = an admin username), the secret must be the MD5 hex of the admin's password (`printf %s 'password' | md5sum`), not the password itself; better, switch to an API credential.",
			"Changing the admin's password does not change the API secret, so a recent password change is not the cause.",
		},
		Details: d,
	}
}

func (r *run) permissionDenied() *sdk.Diagnosis {
	p := pagesFor(r.version)
	refused := append(append([]string{}, r.denied...), r.custom...)
	boxes := make([]string, len(r.denied))
	for i, a := range r.denied {
		boxes[i] = roleBox(a)
	}
	sev := sdk.SeverityWarning
	if len(r.cfg.RequiredActions) > 0 && r.requiredAllowed() == 0 {
		sev = sdk.SeverityCritical // nothing the integration needs works
	}
	// WHMCS's words, as it wrote them (it names the action it refused, in
	// its own spelling): quoted, never rebuilt from the name we called.
	words := make([]string, len(refused))
	for i, a := range refused {
		words[i] = fmt.Sprintf("%s: \"%s\"", a, r.refusals[a])
	}
	msg := fmt.Sprintf("The API credential works, but its API role does not allow %s (WHMCS answered \"%s\").", strings.Join(refused, ", "), r.refusals[refused[0]])
	if refused[0] == "WhmcsDetails" {
		msg += " pbxwatch reads the WHMCS version with WhmcsDetails."
	}
	if len(r.custom) > 0 {
		msg += fmt.Sprintf(" %s %s not in WHMCS's API index, nor a near spelling of an action there, so pbxwatch takes %s for a custom action (an addon's or a file in includes/api/): those exist but are missing from the API role editor of WHMCS 8, which is why the role refuses %s.",
			strings.Join(r.custom, ", "), isAre(len(r.custom)), itThem(len(r.custom)), itThem(len(r.custom)))
	}
	d := map[string]string{
		"denied":         strings.Join(refused, ", "),
		"allowed":        strings.Join(r.allowed, ", "),
		"identifier":     r.idHint(),
		"url":            r.cfg.endpoint.String(),
		"whmcs_messages": strings.Join(words, "; "),
	}
	if len(boxes) > 0 {
		d["role_boxes"] = strings.Join(boxes, "; ")
	}
	if len(r.custom) > 0 {
		d["custom_actions"] = strings.Join(r.custom, ", ")
		d["assumed"] = "custom action: not in WHMCS's API index and not a near spelling of an action there"
	}
	if r.version != "" {
		d["whmcs_version"] = r.version
	}
	var steps []string
	if len(boxes) > 0 {
		steps = append(steps, fmt.Sprintf("Open %s, API Roles tab, edit the role assigned to this credential, tick %s in the action list, and Save.", p.apiCreds, strings.Join(boxes, ", ")))
	}
	if len(r.custom) > 0 {
		steps = append(steps, r.customActionSteps(p)...)
	}
	steps = append(steps,
		fmt.Sprintf("On the API Credentials tab, check that this role is assigned to the credential with identifier %s: a role that was deleted and re-created is not re-assigned automatically. Any one role allowing an action is enough.", r.idHint()),
		fmt.Sprintf("If the boxes are ticked and WHMCS still refuses, check the admin user's administrator role in %s: it must include API Access.", p.adminRoles),
	)
	return &sdk.Diagnosis{Code: "whmcs.permission_denied", Severity: sev, Message: msg, Remediation: steps, Details: d}
}

// customActionSteps grant an action the role editor does not list. An API
// role's allowed actions are stored with the role (tblapi_roles, a JSON
// object of lower-cased action names), which is where the editor writes
// too.
func (r *run) customActionSteps(p adminPages) []string {
	names := make([]string, len(r.custom))
	for i, a := range r.custom {
		names[i] = fmt.Sprintf("%q:1", strings.ToLower(a))
	}
	return []string{
		fmt.Sprintf("Check that the addon providing %s is activated (%s) and that the integration spells the action as the addon documents it; if the addon's documentation names a permission or role setting for its API actions, use that.", strings.Join(r.custom, ", "), p.addons),
		fmt.Sprintf("Otherwise grant it in the role itself: the role editor (%s, API Roles tab) lists only WHMCS's own actions, but a role's allowed actions are stored in the database table tblapi_roles, column permissions, as a JSON object. Back the database up, then add %s to that object for the role assigned to this credential (keep the other entries), and run the check again.", p.apiCreds, strings.Join(names, ", ")),
		"If the name is a typo rather than a custom action, correct it in required_actions and in the integration instead.",
	}
}

func (r *run) invalidAction() *sdk.Diagnosis {
	p := pagesFor(r.version)
	names := sortedKeys(r.missing)
	var fixes, evidence []string
	for _, a := range names {
		if s := suggest(a); s != "" && !strings.EqualFold(s, a) {
			fixes = append(fixes, fmt.Sprintf("%s with %s", a, s))
		}
		evidence = append(evidence, fmt.Sprintf("%s: %s", a, r.missing[a]))
	}
	steps := []string{}
	if len(fixes) > 0 {
		steps = append(steps, "In required_actions (and in the integration that calls them), replace "+strings.Join(fixes, ", ")+".")
	}
	steps = append(steps,
		"Check the spelling against the WHMCS API index (https://developers.whmcs.com/api/api-index/); names are case-insensitive but must exist on this WHMCS version.",
		fmt.Sprintf("If it is a custom API action of an addon module, check the addon is activated in %s and tick the action in the API role (%s, API Roles tab).", p.addons, p.apiCreds),
	)
	msg := fmt.Sprintf("%s %s not a WHMCS API action on this install (WHMCS %s), so the integration's calls to %s fail; WHMCS answered %s.", strings.Join(names, ", "), isAre(len(names)), orUnknown(r.version), itThem(len(names)), strings.Join(evidence, "; "))
	for _, a := range names {
		if permission().MatchString(r.missing[a]) {
			msg += fmt.Sprintf(" WHMCS answers Invalid Permissions for names that do not exist when the API role is restricted, so that answer does not prove the action exists; pbxwatch assumed a misspelling because %s is a near spelling of %s. If it is a custom action of an addon instead, grant it to the role (see docs/whmcs.md).", a, nearBuiltin(a))
			break
		}
	}
	d := map[string]string{"actions": strings.Join(names, ", "), "whmcs_messages": strings.Join(evidence, "; "), "url": r.cfg.endpoint.String()}
	if r.version != "" {
		d["whmcs_version"] = r.version
	}
	if len(fixes) > 0 {
		d["suggestions"] = strings.Join(fixes, ", ")
	}
	return &sdk.Diagnosis{Code: "whmcs.invalid_action", Severity: sdk.SeverityWarning, Message: msg, Remediation: steps, Details: d}
}

func (r *run) doubledPath(rep *reply, msg string) *sdk.Diagnosis {
	d := r.details(rep, msg)
	fixed := *r.cfg.endpoint
	if i := strings.Index(fixed.Path, apiPath); i >= 0 {
		fixed.Path = fixed.Path[:i+len(apiPath)]
	}
	d["suggested_url"] = fixed.String()
	return &sdk.Diagnosis{
		Code: "whmcs.wrong_endpoint", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("WHMCS answered \"%s\" at HTTP %d: the endpoint path %s has more than includes/api.php, so WHMCS routed the call to its admin-session handler before it looked at the credential.", msg, rep.status, r.cfg.endpoint.Path),
		Remediation: []string{
			fmt.Sprintf("Set `url: %s` (or just the WHMCS root; pbxwatch appends includes/api.php once).", fixed.String()),
			"Fix the same doubled path in any integration that builds the API URL from a base that already ends in includes/api.php.",
		},
		Details: d,
	}
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
