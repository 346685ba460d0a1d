package freepbx

import (
	"fmt"
	"strings"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// Diagnosis codes of the server-side look-up (FreePBX's own database).
const (
	codeClientUnknown       = "freepbx.client_unknown"
	codeGrantTypeMismatch   = "freepbx.grant_type_mismatch"
	codeSecretMismatch      = "freepbx.secret_mismatch"
	codeScopeNotAllowed     = "freepbx.scope_not_allowed"
	codeAPIModuleDisabled   = "freepbx.api_module_disabled"
	codeOAuthKeysUnreadable = "freepbx.oauth_keys_unreadable"
	codeAPIModuleVulnerable = "freepbx.api_module_vulnerable"
	codeDatabaseUnreachable = "freepbx.database_unreachable"
	codeTokenScopesDiffer   = "freepbx.token_scopes_differ"
	codeWrongSecretAccepted = "freepbx.wrong_secret_accepted"
	cveAnySecret            = "CVE-2026-44237"
	stepUpgradeAPI          = "Upgrade the API module: Admin → Module Admin → Check Online → API → Upgrade, or as root `fwconsole ma upgrade api && fwconsole reload`; 17.0.8 and later check the Client Secret again."
)

var grantLabels = map[string]string{
	"client_credentials": "Machine-to-Machine app", "authorization_code": "Web-server app",
	"implicit": "Browser-based/Single Page app", "password": "Native app",
}

func grantLabel(g string) string {
	if l, ok := grantLabels[g]; ok {
		return fmt.Sprintf("%s (%s)", l, g)
	}
	return fmt.Sprintf("%q", g)
}

func appDetails(c *config, a *freepbxdb.Application) map[string]string {
	d := map[string]string{"client_id": c.ClientID}
	if a != nil {
		d["application"] = a.Name
		d["application_id"] = fmt.Sprint(a.ID)
		d["grant_type"] = a.GrantType
	}
	return d
}

func diagDatabaseUnreachable(c *config, err error) sdk.Diagnosis {
	where := c.FreePBXConf
	if where == "" {
		where = "database_dsn"
	}
	return sdk.Diagnosis{
		Code: codeDatabaseUnreachable, Severity: sdk.SeverityWarning,
		Message: fmt.Sprintf("The server-side look-up in FreePBX's database failed, so only the outside view is reported: %v.", err),
		Details: map[string]string{"source": where, "error": err.Error()},
		Remediation: []string{
			"If the error says permission denied on freepbx.conf: `fwconsole chown` leaves /etc/freepbx.conf 0660 asterisk:asterisk; give the pbxwatch service the asterisk group (SupplementaryGroups=asterisk in its unit) or use database_dsn with a read-only user.",
			"If MariaDB refused the user: create a read-only user as docs/freepbx.md shows (GRANT SELECT on api_applications, api_access_tokens, modules and freepbx_settings only) and set database_dsn and database_password_file.",
			"If the socket or host is unreachable: check MariaDB runs (`systemctl status mariadb`) and AMPDBHOST/AMPDBSOCK in freepbx.conf.",
		},
	}
}

func diagAPIModuleDisabled(m freepbxdb.Module) sdk.Diagnosis {
	msg := "The FreePBX API module is not installed: the modules table has no row for api, so /admin/api/api/token cannot answer."
	first := "In Admin → Module Admin, Check Online, select API and Download/Install it (as root: `fwconsole ma downloadinstall api && fwconsole reload`)."
	if m.Installed {
		msg = fmt.Sprintf("The FreePBX API module %s is installed but disabled (modules.enabled = 0): the token and GraphQL endpoints do not answer.", m.Version)
		first = "In Admin → Module Admin, select API and Enable it, then Apply Config (as root: `fwconsole ma enable api && fwconsole reload`)."
	}
	return critical(codeAPIModuleDisabled, msg, map[string]string{"api_module_version": m.Version, "api_module_installed": fmt.Sprint(m.Installed)},
		first, "Then check that the application in "+apps+" still exists: disabling does not delete it, uninstalling does.")
}

func diagAPIModuleVulnerable(m freepbxdb.Module) sdk.Diagnosis {
	return critical(codeAPIModuleVulnerable,
		fmt.Sprintf("The FreePBX API module %s accepts ANY client secret for a known Client ID (%s, fixed in %s): anyone who learns a Client ID gets tokens with that application's scopes, even while the check passes.", m.Version, cveAnySecret, freepbxdb.FixedAPIVersion),
		map[string]string{"api_module_version": m.Version, "fixed_in": freepbxdb.FixedAPIVersion, "cve": cveAnySecret},
		stepUpgradeAPI,
		"Until then, restrict who can reach /admin/api (System Admin → Firewall: API access from trusted networks only) and review the tokens in "+apps+" → Access Tokens for addresses you do not know.",
		"After upgrading, integrations that were configured with a wrong secret start failing: this check's freepbx.secret_mismatch names them.")
}

func diagClientUnknown(c *config, list []freepbxdb.Application) sdk.Diagnosis {
	var names []string
	var m2m []string
	for _, a := range list {
		names = append(names, fmt.Sprintf("%q %s", a.Name, grantLabel(a.GrantType)))
		if a.GrantType == "client_credentials" {
			m2m = append(m2m, fmt.Sprintf("%q", a.Name))
		}
	}
	have := "FreePBX has no API applications at all"
	if len(names) > 0 {
		have = "FreePBX has: " + strings.Join(names, ", ")
	}
	steps := []string{fmt.Sprintf("In %s, open the Machine-to-Machine application the integration should use and copy its Client ID into client_id (here and in the integration).", apps)}
	if len(m2m) == 0 {
		steps = append(steps, fmt.Sprintf("There is no Machine-to-Machine application: add one in %s (Add Application → Machine-to-Machine app) with the scopes in required_scopes, and store its Client Secret, shown only once.", apps))
	} else {
		steps = append(steps, "Machine-to-Machine applications: "+strings.Join(m2m, ", ")+".")
	}
	steps = append(steps, "If the application was deleted on purpose, remove this check or point it at its replacement.")
	return critical(codeClientUnknown,
		fmt.Sprintf("No API application has Client ID %s in FreePBX's database (api_applications): it was deleted or the id is mistyped. %s.", c.ClientID, have),
		map[string]string{"client_id": c.ClientID, "applications": strings.Join(names, "; ")}, steps...)
}

func diagGrantTypeMismatch(c *config, a *freepbxdb.Application, apiVersion string) sdk.Diagnosis {
	d := appDetails(c, a)
	d["api_module_version"] = apiVersion
	steps := []string{
		fmt.Sprintf("An application's type cannot be changed: in %s add a new Machine-to-Machine app with the same Allowed Scopes (%s), then put its Client ID and Client Secret into this check and the integration.", apps, orNone(a.AllowedScopes)),
		fmt.Sprintf("Then delete %q once nothing uses it.", a.Name),
	}
	if freepbxdb.VersionMajor(apiVersion) >= 17 {
		return sdk.Diagnosis{Code: codeGrantTypeMismatch, Severity: sdk.SeverityWarning, Details: d, Remediation: steps,
			Message: fmt.Sprintf("Application %q is a %s, not a Machine-to-Machine app (client_credentials). API module %s does not check the type, so tokens are issued; FreePBX 16 refuses them with invalid_client, and so may a future release.", a.Name, grantLabel(a.GrantType), apiVersion)}
	}
	return critical(codeGrantTypeMismatch,
		fmt.Sprintf("Application %q is a %s, not a Machine-to-Machine app (client_credentials): FreePBX %s refuses the client_credentials grant for it with invalid_client, whatever the secret.", a.Name, grantLabel(a.GrantType), apiVersion), d, steps...)
}

func diagSecretMismatch(c *config, a *freepbxdb.Application, apiVersion string) sdk.Diagnosis {
	d := appDetails(c, a)
	d["algo"] = a.Algo
	if d["algo"] == "" {
		d["algo"] = "sha256"
	}
	secretAt := "client_secret"
	if c.ClientSecretFile != "" {
		secretAt = c.ClientSecretFile
	}
	msg := fmt.Sprintf("The configured Client Secret (%s) does not match the hash FreePBX stores for application %q: FreePBX refuses it with invalid_client.", secretAt, a.Name)
	if freepbxdb.AcceptsAnySecret(apiVersion) {
		msg = fmt.Sprintf("The configured Client Secret (%s) does not match the hash FreePBX stores for application %q. API module %s accepts it anyway (%s); the check will fail once the module is upgraded.", secretAt, a.Name, apiVersion, cveAnySecret)
	}
	return critical(codeSecretMismatch, msg, d,
		fmt.Sprintf("FreePBX shows a Client Secret only once: in %s, open %q and regenerate its secret (Regenerate, on module versions that offer it), or add a new Machine-to-Machine app.", apps, a.Name),
		fmt.Sprintf("Write the new secret into %s and into the integration's settings, both at once: the old secret stops working immediately.", secretAt))
}

func diagScopeNotAllowed(c *config, a *freepbxdb.Application, missingRequired, requestedOutside []string) sdk.Diagnosis {
	d := appDetails(c, a)
	d["allowed_scopes"] = strings.Join(a.AllowedScopes, " ")
	d["required_scopes"] = strings.Join(c.RequiredScopes, " ")
	var what []string
	if len(missingRequired) > 0 {
		d["missing_scopes"] = strings.Join(missingRequired, " ")
		what = append(what, fmt.Sprintf("does not cover %s from required_scopes", strings.Join(missingRequired, ", ")))
	}
	if len(requestedOutside) > 0 {
		d["requested_not_allowed"] = strings.Join(requestedOutside, " ")
		what = append(what, fmt.Sprintf("does not allow %s that this check requests (FreePBX 16 answers invalid_scope)", strings.Join(requestedOutside, ", ")))
	}
	add := append(append([]string{}, missingRequired...), requestedOutside...)
	return critical(codeScopeNotAllowed,
		fmt.Sprintf("Application %q allows scopes %s, which %s. FreePBX grants a scope only when the allowed list holds it or a prefix of it (gql covers gql:core:read).", a.Name, orNone(a.AllowedScopes), strings.Join(what, " and ")), d,
		fmt.Sprintf("In %s, edit %q and add %s to its Allowed Scopes (or a broader one: gql:core, gql), then Submit.", apps, a.Name, strings.Join(add, " and ")),
		"Tokens keep the scopes they were issued with: the integration must fetch a new token after the change.")
}

func diagTokenScopesDiffer(c *config, a *freepbxdb.Application, expected, jwtScopes []string, t *freepbxdb.Token) sdk.Diagnosis {
	d := appDetails(c, a)
	recorded := strings.Join(t.Scopes, " ")
	if t.ScopesRaw != "" {
		recorded = t.ScopesRaw
	}
	d["expected_scopes"], d["token_scopes"], d["recorded_scopes"] = strings.Join(expected, " "), strings.Join(jwtScopes, " "), recorded
	return sdk.Diagnosis{Code: codeTokenScopesDiffer, Severity: sdk.SeverityWarning, Details: d,
		Message: fmt.Sprintf("FreePBX recorded the token it just issued with scopes %q in api_access_tokens, but the check expected %s and the token says %s: newer API modules authorize by the recorded scopes, so the token may not be able to do what it claims.", recorded, orNone(expected), orNone(jwtScopes)),
		Remediation: []string{
			fmt.Sprintf("Compare %q's Allowed Scopes in %s with the scopes this check and the integration request; make them agree.", a.Name, apps),
			"If they already agree, the API module is inconsistent: upgrade it (`fwconsole ma upgrade api && fwconsole reload`) and revoke the application's old tokens in " + apps + " → Access Tokens.",
		}}
}

func diagWrongSecretAccepted(c *config, apiVersion string) sdk.Diagnosis {
	d := map[string]string{"client_id": c.ClientID, "probe": "probe_wrong_secret"}
	if apiVersion != "" {
		d["api_module_version"] = apiVersion
	}
	return critical(codeWrongSecretAccepted,
		fmt.Sprintf("FreePBX issued a token for Client ID %s although the check deliberately presented a wrong Client Secret: anyone who knows the Client ID can use the API (%s in API module 17 before %s).", c.ClientID, cveAnySecret, freepbxdb.FixedAPIVersion), d,
		stepUpgradeAPI,
		"Restrict who can reach /admin/api (System Admin → Firewall) until the upgrade is done, and revoke unknown tokens in "+apps+" → Access Tokens.")
}

// diagOtherDatabase: FreePBX accepted what its database, as read here,
// should have refused. The look-up reads another FreePBX's database (or a
// stale copy), so its other findings may not apply either.
func diagOtherDatabase(c *config, db *freepbxdb.DB, what string) sdk.Diagnosis {
	src := c.FreePBXConf
	if src == "" {
		src = "database_dsn"
	}
	return sdk.Diagnosis{Code: codeClientUnknown, Severity: sdk.SeverityWarning,
		Message: fmt.Sprintf("FreePBX at %s issued a token for Client ID %s, yet the database this check reads (%s on %s, from %s) %s: it is not the database of the FreePBX at url, so the server-side findings may not apply to it.", c.TokenURL, c.ClientID, db.Name, db.Where, src, what),
		Details: map[string]string{"client_id": c.ClientID, "database": db.Name, "database_at": db.Where, "source": src, "token_url": c.TokenURL},
		Remediation: []string{
			"Point url at this host's FreePBX (http://127.0.0.1) or freepbx_conf/database_dsn at the database of the FreePBX url names (its /etc/freepbx.conf says where: AMPDBHOST, AMPDBNAME).",
			"On a cluster or after a restore, check that AMPDBNAME in /etc/freepbx.conf names the live database.",
		}}
}
