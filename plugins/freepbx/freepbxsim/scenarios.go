package freepbxsim

import "sort"

// scenario is one simulated FreePBX setup: the API application a client id
// names, and the state of the PBX around it.
type scenario struct {
	description string
	// expect is what pbxwatch's freepbx check reports, per version, with
	// the check's default config (scopes not set, required gql:core:read).
	expect16, expect17 string

	unknown bool    // no such client id
	answer  *Answer // a recorded answer to serve (client id "answer.<name>")

	appGrant string   // the application's type; "" is client_credentials (Machine-to-Machine)
	allowed  []string // the application's allowed scopes; empty means unrestricted

	coreDisabled    bool // core module disabled: its scopes and GraphQL fields vanish
	noAPIModule     bool // api module missing: ajax.php's Whoops JSON 500 for module api
	rewriteOff      bool // Apache ignores admin/api/.htaccess: /admin/api/... answers 404
	multiViews      bool // ... with MultiViews on: ajax.php without a module declines
	notFreePBX      bool // no FreePBX at this address: 404 everywhere
	noCCGrant       bool // token endpoint without the client_credentials grant
	brokenKey       bool // api_oauth.key unreadable: token endpoint 500
	debugPage       bool // the 500 comes as PHP's debug page, which echoes the POST data
	htmlLogin       bool // FreePBX's GUI login page answers the token request with 200 HTML
	ssoLogin        bool // a proxy's sign-on page answers the token request with 200 HTML
	slow            bool // token endpoint stalls for Options.SlowDelay
	revoked         bool // tokens are not stored, so FreePBX treats them as revoked
	keyChanged      bool // tokens are signed with a key FreePBX no longer has
	checkRefererOff bool // Advanced Setting CHECKREFERER off
	noExtensions    bool // the PBX has no extensions at all
	anySecret       bool // FreePBX 17: api module before 17.0.8 accepts any client secret (CVE-2026-44237)
}

// scenarios by name. The client id "<16|17>-<name>" selects one.
var scenarios = map[string]scenario{
	"ok": {
		description: "Machine-to-Machine app with scope gql; everything works.",
		expect16:    "OK", expect17: "OK", allowed: []string{"gql"},
	},
	"core_read": {
		description: "App restricted to gql:core:read: exactly enough for fetchAllExtensions.",
		expect16:    "OK", expect17: "OK", allowed: []string{"gql:core:read"},
	},
	"framework_only": {
		description: "App restricted to gql:framework: the token lacks any core scope.",
		expect16:    "freepbx.missing_scope", expect17: "freepbx.missing_scope", allowed: []string{"gql:framework"},
	},
	"extension_scope_only": {
		description: "App restricted to gql:core:read:extension, which FreePBX does not accept for fetchAllExtensions.",
		expect16:    "freepbx.missing_scope", expect17: "freepbx.missing_scope", allowed: []string{"gql:core:read:extension"},
	},
	"wrong_app_type": {
		description: "A Web-server (authorization_code) app used with client_credentials: FreePBX 16 refuses it, 17 does not check.",
		expect16:    "freepbx.invalid_client", expect17: "OK", appGrant: "authorization_code", allowed: []string{"gql"},
	},
	"no_cc_grant": {
		description: "The token endpoint does not offer the client_credentials grant.",
		expect16:    "freepbx.unsupported_grant_type", expect17: "freepbx.unsupported_grant_type", noCCGrant: true,
	},
	"core_disabled": {
		description: "Scope gql, but the core module is disabled: fetchAllExtensions is not in the schema.",
		expect16:    "freepbx.query_not_permitted", expect17: "freepbx.query_not_permitted", allowed: []string{"gql"}, coreDisabled: true,
	},
	"revoked": {
		description: "Tokens are issued but FreePBX finds no row for them: deleted, or purged as expired because the database clock is ahead of PHP's.",
		expect16:    "freepbx.token_rejected", expect17: "freepbx.token_rejected", allowed: []string{"gql"}, revoked: true,
	},
	"key_changed": {
		description: "api_oauth.key was regenerated: tokens fail signature validation.",
		expect16:    "freepbx.token_rejected", expect17: "freepbx.token_rejected", allowed: []string{"gql"}, keyChanged: true,
	},
	"no_api_module": {
		description: "The API module is not installed: ajax.php cannot load its class and answers with the framework's Whoops exception JSON (500).",
		expect16:    "freepbx.api_module_missing", expect17: "freepbx.api_module_missing", noAPIModule: true,
	},
	"rewrite_off": {
		description: "Apache ignores /admin/api/.htaccess (AllowOverride None or mod_rewrite off): /admin/api/api/token answers Apache's 404, /admin/ajax.php works.",
		expect16:    "freepbx.api_routing_broken", expect17: "freepbx.api_routing_broken", rewriteOff: true, allowed: []string{"gql"},
	},
	"multiviews": {
		description: "As rewrite_off with MultiViews on: /admin/api/api/token reaches ajax.php without module and command, which answers 403 ajaxRequest declined.",
		expect16:    "freepbx.api_routing_broken", expect17: "freepbx.api_routing_broken", multiViews: true, allowed: []string{"gql"},
	},
	"not_freepbx": {
		description: "url reaches a web server without FreePBX: 404 for the token URL and for /admin/ajax.php.",
		expect16:    "freepbx.not_freepbx", expect17: "freepbx.not_freepbx", notFreePBX: true,
	},
	"sso_login": {
		description: "A proxy's single sign-on page answers the token request with 200 HTML that names no known product.",
		expect16:    "freepbx.unexpected_response", expect17: "freepbx.unexpected_response", ssoLogin: true,
	},
	"broken_key": {
		description: "The OAuth private key is unreadable: the token endpoint answers 500.",
		expect16:    "freepbx.server_error", expect17: "freepbx.server_error", brokenKey: true,
	},
	"debug_page": {
		description: "The token endpoint fails and a PHP debug error page (Whoops) echoes the POST data, client_secret included.",
		expect16:    "freepbx.server_error", expect17: "freepbx.server_error", brokenKey: true, debugPage: true,
	},
	"html_login": {
		description: "FreePBX's administration login page answers the token request with 200 HTML: a proxy or rewrite sends /admin/api/... to the GUI.",
		expect16:    "freepbx.api_routing_broken", expect17: "freepbx.api_routing_broken", htmlLogin: true,
	},
	"slow": {
		description: "The token endpoint stalls (Options.SlowDelay).",
		expect16:    "freepbx.timeout", expect17: "freepbx.timeout", slow: true, allowed: []string{"gql"},
	},
	"checkreferer_off": {
		description: "CHECKREFERER off: GUI-only commands answer Not Authenticated instead of Referrer.",
		expect16:    "OK", expect17: "OK", allowed: []string{"gql"}, checkRefererOff: true,
	},
	"any_secret": {
		description: "API module 17 before 17.0.8 (CVE-2026-44237): FreePBX 17 issues tokens for any client secret; 16 checks it.",
		expect16:    "OK", expect17: "OK", allowed: []string{"gql"}, anySecret: true,
	},
	"no_extensions": {
		description: "No extensions provisioned: fetchAllExtensions answers status false.",
		expect16:    "OK", expect17: "OK", allowed: []string{"gql"}, noExtensions: true,
	},
}

// ScenarioInfo describes a scenario for demos and docs.
type ScenarioInfo struct {
	Name        string
	Description string
	// Expect16 and Expect17 are the diagnosis code (or OK) the freepbx
	// check reports with its default config against each version.
	Expect16, Expect17 string
}

// Scenarios lists every scenario, sorted by name.
func Scenarios() []ScenarioInfo {
	out := make([]ScenarioInfo, 0, len(scenarios))
	for name, sc := range scenarios {
		out = append(out, ScenarioInfo{Name: name, Description: sc.description, Expect16: sc.expect16, Expect17: sc.expect17})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
