package freepbx

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// maxAppSeries bounds the per-application series a run exports.
const maxAppSeries = 100

// settingsRead are the Advanced Settings the look-up needs.
var settingsRead = []string{"CERTKEYLOC", "ASTETCDIR", "AMPASTERISKWEBUSER"}

// serverSide adds to res what FreePBX's own database says: the causes the
// outside view cannot tell apart, and security findings that show even
// when the API works. The outside view's diagnoses stay; the causes found
// here are listed first.
func (c *checker) serverSide(ctx context.Context, res *sdk.Result) {
	cfg := &c.cfg
	if !cfg.serverSideOn() && !cfg.ProbeWrongSecret {
		return
	}
	ctx, cancel := withMargin(ctx)
	defer cancel()
	issued, jti, jwtScopes := c.tap.issuedToken()
	var found []sdk.Diagnosis
	apiVersion := ""
	if cfg.serverSideOn() {
		var diags []sdk.Diagnosis
		diags, apiVersion = c.lookup(ctx, res, issued, jti, jwtScopes)
		found = append(found, diags...)
	}
	if cfg.ProbeWrongSecret && issued {
		if d := c.probeWrongSecret(ctx, res, apiVersion); d != nil {
			found = append(found, *d)
		}
	}
	merge(res, found)
	scrubSecrets(res, append([]string{cfg.ClientSecret.Reveal()}, c.dbSecrets...)...)
}

// scrubSecrets removes the client secret and every database credential
// read, in any encoding, from the result's texts. The SDK scrubs the
// registered values again at the transport; this keeps the core safe alone.
func scrubSecrets(res *sdk.Result, secrets ...string) {
	res.ScrubText(func(s string) string { return frontlayer.Scrub(s, secrets...) })
}

// rememberSecret registers a database credential with the SDK and keeps it
// for scrubSecrets.
func (c *checker) rememberSecret(s string) {
	sdk.RegisterSecret(s)
	if !slices.Contains(c.dbSecrets, s) {
		c.dbSecrets = append(c.dbSecrets, s)
	}
}

// merge puts the causes found before the outside view's diagnoses, and a
// failed look-up (no cause, only a caveat) after them, then rebuilds the
// status and summary as finish does.
func merge(res *sdk.Result, found []sdk.Diagnosis) {
	if len(found) == 0 {
		return
	}
	var causes, caveats []sdk.Diagnosis
	for _, d := range found {
		if d.Code == codeDatabaseUnreachable {
			caveats = append(caveats, d)
		} else {
			causes = append(causes, d)
		}
	}
	outside := res.Diagnoses
	res.Diagnoses = nil
	for _, d := range slices.Concat(causes, outside, caveats) {
		res.Diagnose(d)
	}
	codes := make([]string, len(res.Diagnoses))
	for i, d := range res.Diagnoses {
		codes[i] = d.Code
	}
	res.Summary = fmt.Sprintf("%s: %s", strings.Join(codes, ", "), res.Diagnoses[0].Message)
}

// lookup reads FreePBX's database. It returns the diagnoses and the api
// module's version ("" when unknown).
func (c *checker) lookup(ctx context.Context, res *sdk.Result, issued bool, jti string, jwtScopes []string) ([]sdk.Diagnosis, string) {
	cfg := &c.cfg
	src := cfg.source()
	src.OnSecret = c.rememberSecret
	db, err := src.Open(ctx)
	if err != nil {
		return c.unreachable(res, err), ""
	}
	defer db.Close()
	res.AddGauge("freepbx_database_up", "1 if the server-side look-up could read FreePBX's database.", 1, nil)

	var out []sdk.Diagnosis
	api, err := db.Module(ctx, "api")
	if err != nil {
		return c.unreachable(res, err), ""
	}
	moduleMetrics(res, api)
	if !api.Installed {
		// Its tables may not exist: nothing more to read.
		return []sdk.Diagnosis{diagAPIModuleDisabled(api)}, ""
	}
	if !api.Enabled {
		out = append(out, diagAPIModuleDisabled(api))
	}
	if freepbxdb.AcceptsAnySecret(api.Version) {
		out = append(out, diagAPIModuleVulnerable(api))
	}

	apps, err := db.Applications(ctx)
	if err != nil {
		return append(out, c.unreachable(res, err)...), api.Version
	}
	now := time.Now()
	use, err := db.TokenUseByApplication(ctx, now)
	if err != nil {
		return append(out, c.unreachable(res, err)...), api.Version
	}
	applicationMetrics(res, apps, use)

	app := findApp(apps, cfg.ClientID)
	if app == nil {
		// More applications than were listed: ask for this one.
		if app, err = db.ApplicationByClientID(ctx, cfg.ClientID); err != nil {
			return append(out, c.unreachable(res, err)...), api.Version
		}
	}
	if app == nil && issued {
		// FreePBX knows the client: this database is not that FreePBX's.
		return append(out, diagOtherDatabase(cfg, db, "has no application with that Client ID")), api.Version
	}
	if app == nil {
		return append(out, diagClientUnknown(cfg, apps)), api.Version
	}
	out = append(out, appDiagnoses(cfg, db, app, api.Version, issued)...)

	settings, err := db.Settings(ctx, settingsRead...)
	if err != nil {
		return append(out, c.unreachable(res, err)...), api.Version
	}
	out = append(out, c.keyDiagnoses(settings)...)

	if jti != "" {
		tok, err := db.TokenByID(ctx, jti)
		if err != nil {
			return append(out, c.unreachable(res, err)...), api.Version
		}
		if d := tokenDiagnosis(cfg, app, jwtScopes, tok); d != nil {
			out = append(out, *d)
		}
	}
	return out, api.Version
}

func (c *checker) unreachable(res *sdk.Result, err error) []sdk.Diagnosis {
	res.AddGauge("freepbx_database_up", "1 if the server-side look-up could read FreePBX's database.", 0, nil)
	sdk.Logger().Warn("FreePBX database look-up failed", "err", sdk.Scrub(err.Error()))
	return []sdk.Diagnosis{diagDatabaseUnreachable(&c.cfg, err)}
}

func findApp(apps []freepbxdb.Application, clientID string) *freepbxdb.Application {
	for i := range apps {
		if apps[i].ClientID == clientID {
			return &apps[i]
		}
	}
	return nil
}

// appDiagnoses compares the application's row with the check's config, in
// the order FreePBX 16's ClientRepository checks: grant type, secret, then
// (ScopeRepository) scopes.
func appDiagnoses(cfg *config, db *freepbxdb.DB, app *freepbxdb.Application, apiVersion string, issued bool) []sdk.Diagnosis {
	var out []sdk.Diagnosis
	if app.GrantType != "client_credentials" {
		out = append(out, diagGrantTypeMismatch(cfg, app, apiVersion))
	}
	match, known := secretMatches(app.Algo, cfg.ClientSecret.Reveal(), app.SecretHash())
	switch {
	case !known:
		sdk.Logger().Warn("cannot compare the client secret: unknown hash algorithm in api_applications.algo", "algo", app.Algo, "application", app.Name)
	case !match && issued && !freepbxdb.AcceptsAnySecret(apiVersion):
		// This api module checks the secret and accepted it: the hash
		// read here is not the one that FreePBX checked.
		out = append(out, diagOtherDatabase(cfg, db, fmt.Sprintf("stores a different Client Secret hash for application %q", app.Name)))
	case !match:
		out = append(out, diagSecretMismatch(cfg, app, apiVersion))
	}
	allowed := app.EffectiveScopes()
	missing := missingScopes(allowed, cfg.RequiredScopes)
	outside := missingScopes(allowed, cfg.Scopes)
	if len(missing) > 0 || len(outside) > 0 {
		out = append(out, diagScopeNotAllowed(cfg, app, missing, outside))
	}
	return out
}

// keyDiagnoses checks the OAuth key pair where FreePBX looks for it:
// keys_dir, else Advanced Setting CERTKEYLOC, else ASTETCDIR/keys.
func (c *checker) keyDiagnoses(settings map[string]string) []sdk.Diagnosis {
	dir := c.cfg.KeysDir
	switch {
	case dir != "":
	case settings["CERTKEYLOC"] != "":
		dir = settings["CERTKEYLOC"]
	case settings["ASTETCDIR"] != "":
		dir = path.Join(settings["ASTETCDIR"], "keys")
	default:
		dir = defaultKeysDir
	}
	name := c.cfg.WebUser
	if name == "" {
		name = settings["AMPASTERISKWEBUSER"]
	}
	if name == "" {
		name = defaultWebUser
	}
	w, err := lookupWebUser(name)
	if err != nil {
		sdk.Logger().Warn("cannot check the OAuth key files: unknown web server user (set web_user)", "web_user", name, "err", err)
		return nil
	}
	problems, err := checkOAuthKeys(dir, w)
	if err != nil {
		sdk.Logger().Warn("cannot check the OAuth key files", "err", err)
		return nil
	}
	if len(problems) == 0 {
		return nil
	}
	return []sdk.Diagnosis{diagOAuthKeys(dir, w, problems)}
}

// tokenDiagnosis compares the api_access_tokens row of the token this run
// got with what was asked: the check's scopes, or else the application's
// allowed scopes (what FreePBX grants without a scope parameter).
func tokenDiagnosis(cfg *config, app *freepbxdb.Application, jwtScopes []string, tok *freepbxdb.Token) *sdk.Diagnosis {
	if tok == nil {
		// No row: the outside view's token_rejected (revoked) tells it.
		return nil
	}
	expected := cfg.Scopes
	if len(expected) == 0 {
		expected = app.EffectiveScopes()
	}
	if tok.ScopesRaw == "" && sameSet(tok.Scopes, expected) && sameSet(tok.Scopes, jwtScopes) {
		return nil
	}
	d := diagTokenScopesDiffer(cfg, app, expected, jwtScopes, tok)
	return &d
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func moduleMetrics(res *sdk.Result, api freepbxdb.Module) {
	enabled := 0.0
	if api.Installed && api.Enabled {
		enabled = 1
	}
	res.AddGauge("freepbx_api_module_enabled", "1 if FreePBX's api module is installed and enabled (modules table).", enabled, nil)
	if api.Installed {
		res.AddGauge("freepbx_api_module_info", "The api module's version (modules table); always 1.", 1, map[string]string{"version": api.Version})
	}
}

// applicationMetrics exports per-application use: names, ids and grant
// types only, never a secret, hash or token.
func applicationMetrics(res *sdk.Result, apps []freepbxdb.Application, use map[int64]freepbxdb.TokenUse) {
	for i, a := range apps {
		if i == maxAppSeries {
			break
		}
		labels := func() map[string]string {
			return map[string]string{"application": a.Name, "application_id": fmt.Sprint(a.ID), "grant_type": a.GrantType}
		}
		u := use[a.ID]
		res.AddGauge("freepbx_api_application_live_tokens", "Unexpired access tokens FreePBX holds for the application (api_access_tokens).", float64(u.Live), labels())
		if !u.LastAccessed.IsZero() {
			res.AddGauge("freepbx_api_application_last_used_timestamp_seconds", "Latest last_accessed of the application's access tokens: when it last used the API.", float64(u.LastAccessed.Unix()), labels())
		}
	}
}
