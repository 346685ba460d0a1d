package whmcs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// checker is the plugin: Configure keeps the validated config, each Check
// is one run.
type checker struct {
	cfg  *config
	name string // the check's configured name, for "run pbxwatch check <name>"
	now  func() time.Time
}

func (c *checker) Configure(ctx context.Context, cfg *sdk.Config) error {
	var conf config
	if err := cfg.Decode(&conf); err != nil {
		return err
	}
	if conf.endpoint.Scheme == "http" {
		sdk.Logger().Warn("the WHMCS API is configured over plain http: the API secret crosses the network unencrypted; use https", "url", conf.endpoint.String())
	}
	c.cfg, c.name = &conf, cfg.CheckName
	return nil
}

func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	if c.cfg == nil {
		return nil, errors.New("Check called before Configure")
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	r := &run{cfg: c.cfg, name: c.name, client: newClient(c.cfg), now: now, res: &sdk.Result{}}
	defer r.client.close()
	r.check(ctx)
	return scrubResult(r.res, r.secrets()), nil
}

// scrubResult removes the credentials, in every encoding a server may echo
// them in, from every text of the result: diagnoses quote what servers
// answered. The SDK scrubs again at the transport; this keeps the core
// safe on its own.
func scrubResult(res *sdk.Result, secrets []string) *sdk.Result {
	res.ScrubText(func(s string) string { return frontlayer.Scrub(s, secrets...) })
	return res
}

// run is the state of one check run.
type run struct {
	cfg    *config
	name   string
	client *client
	now    func() time.Time
	res    *sdk.Result

	version   string // "" until WHMCS told us
	authOK    bool   // IP, credential and endpoint all passed
	allowed   []string
	denied    []string          // built-in actions the role does not allow
	custom    []string          // actions outside WHMCS's index the role does not allow
	refusals  map[string]string // action -> WHMCS's words refusing it, as it wrote them
	missing   map[string]string // action -> how WHMCS said it does not exist
	certSeen  bool
	cert      certInfo
	transport bool // the host could not be talked to at all
	// whmcsAnswered: WHMCS itself answered (JSON envelope) at least once.
	// Otherwise a CDN, WAF, redirect or wrong URL stands in the way, and
	// the OpenID Connect endpoints behind it would only repeat that.
	whmcsAnswered bool
}

// check is the whole run: who we are to WHMCS, then what we may do, then
// the certificate and OpenID Connect.
func (r *run) check(ctx context.Context) {
	r.missing, r.refusals = map[string]string{}, map[string]string{}
	first := r.client.api(ctx, "WhmcsDetails", nil)
	r.observeTLS(first)
	if first.status != 0 {
		r.res.AddGauge("whmcs_api_response_seconds", "Time WHMCS took to answer WhmcsDetails, including connection set-up.", first.elapsed.Seconds(), nil)
	}
	r.identify(ctx, first)
	if r.authOK {
		r.probe(ctx)
		r.reportActions()
	}
	r.res.AddGauge("whmcs_api_up", "1 when WHMCS accepted the API credential from this host.", boolGauge(r.authOK), nil)
	if r.version != "" {
		r.res.AddGauge("whmcs_info", "WHMCS version, as a label.", 1, map[string]string{"version": r.version})
	}
	r.checkCertExpiry()
	if r.cfg.OIDC && r.whmcsAnswered {
		r.checkOIDC(ctx)
	}
	r.res.Summary = r.summary()
}

// identify interprets the WhmcsDetails answer; before WHMCS 8.0 that
// action does not exist and GetAdminDetails gives the version.
func (r *run) identify(ctx context.Context, rep *reply) {
	v := r.requireVersion(rep, r.classify(rep))
	switch v.kind {
	case kindAllowed:
		r.authOK, r.version = true, v.env.version()
		r.allowed = append(r.allowed, "WhmcsDetails")
	case kindDenied:
		r.authOK = true
		r.denied = append(r.denied, "WhmcsDetails")
		r.refusals["WhmcsDetails"] = v.message
	case kindNoAction:
		legacy := r.client.api(ctx, "GetAdminDetails", nil)
		lv := r.requireVersion(legacy, r.classify(legacy))
		switch lv.kind {
		case kindAllowed:
			r.authOK, r.version = true, lv.env.version()
		case kindDenied, kindNoAction:
			r.authOK = true
		default:
			r.diagnose(lv.diag)
		}
	default:
		r.diagnose(v.diag)
	}
}

// requireVersion: WhmcsDetails and GetAdminDetails always tell WHMCS's
// version, so a "success" without one is not WHMCS's answer (another
// application's JSON, a proxy's stub) and proves nothing.
func (r *run) requireVersion(rep *reply, v verdict) verdict {
	if v.kind == kindAllowed && v.env.version() == "" {
		return verdict{kind: kindUnknown, diag: r.unexpectedSuccess(rep, "a success without whmcs.version, which WHMCS always sends for "+rep.action)}
	}
	return v
}

// probe calls each required action with minimal parameters.
func (r *run) probe(ctx context.Context) {
	for _, a := range r.cfg.RequiredActions {
		if a == "WhmcsDetails" {
			continue // already called
		}
		v := r.classify(r.client.api(ctx, a, probeParams(a)))
		switch v.kind {
		case kindAllowed:
			r.allowed = append(r.allowed, a)
		case kindDenied:
			r.refused(a, v.message)
		case kindNoAction:
			r.missing[a] = v.message
		default:
			r.diagnose(v.diag)
			if r.transport {
				return // the rest would fail the same way, after as long
			}
		}
	}
}

// refused files an action WHMCS answered Invalid Permissions for. A
// restricted role answers so for names that do not exist too, and for the
// custom actions of addons, which exist but are not in the role editor.
// Which one it is, only the name tells: a built-in is in WHMCS's index, a
// typo of one is a few letters from it, anything else is taken for a
// custom action (and the diagnosis says it assumed so).
func (r *run) refused(a, msg string) {
	switch {
	case isBuiltin(a):
		r.denied = append(r.denied, a)
		r.refusals[a] = msg
	case nearBuiltin(a) != "":
		r.missing[a] = msg
	default:
		r.custom = append(r.custom, a)
		r.refusals[a] = msg
	}
}

func (r *run) reportActions() {
	for _, a := range r.allowed {
		r.res.AddGauge("whmcs_action_allowed", "1 when the API credential may call the action, 0 when WHMCS refuses it.", 1, map[string]string{"action": a})
	}
	for _, a := range r.denied {
		r.res.AddGauge("whmcs_action_allowed", "1 when the API credential may call the action, 0 when WHMCS refuses it.", 0, map[string]string{"action": a})
	}
	for _, a := range append(r.custom, sortedKeys(r.missing)...) {
		r.res.AddGauge("whmcs_action_allowed", "1 when the API credential may call the action, 0 when WHMCS refuses it.", 0, map[string]string{"action": a})
	}
	if len(r.denied)+len(r.custom) > 0 {
		r.diagnose(r.permissionDenied())
	}
	if len(r.missing) > 0 {
		r.diagnose(r.invalidAction())
	}
}

// diagnose adds d once per code: a WAF blocking every probe is one problem.
func (r *run) diagnose(d *sdk.Diagnosis) {
	if d == nil {
		return
	}
	for _, have := range r.res.Diagnoses {
		if have.Code == d.Code {
			return
		}
	}
	r.res.Diagnose(*d)
}

func (r *run) summary() string {
	if len(r.res.Diagnoses) == 0 {
		parts := []string{fmt.Sprintf("WHMCS %s API OK", orUnknown(r.version))}
		parts = append(parts, fmt.Sprintf("%d/%d required actions allowed", r.requiredAllowed(), len(r.cfg.RequiredActions)))
		if r.cfg.OIDC {
			parts = append(parts, "OpenID Connect OK")
		}
		return strings.Join(parts, ", ")
	}
	worst := r.res.Diagnoses[0]
	for _, d := range r.res.Diagnoses[1:] {
		if sdk.Worse(worst.Severity.Status(), d.Severity.Status()) != worst.Severity.Status() {
			worst = d
		}
	}
	s := headline(worst.Message)
	if n := len(r.res.Diagnoses) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more problem%s)", n, plural(n))
	}
	return s
}

func (r *run) requiredAllowed() int {
	n := 0
	for _, a := range r.cfg.RequiredActions {
		for _, ok := range r.allowed {
			if a == ok {
				n++
				break
			}
		}
	}
	return n
}

// headline is a diagnosis message's opening clause, for the summary line:
// up to the first ": ", " (" or ". ", whichever comes first.
func headline(s string) string {
	cut := len(s)
	for _, sep := range []string{": ", " (", ". "} {
		if i := strings.Index(s, sep); i > 20 && i < cut {
			cut = i
		}
	}
	return strings.TrimSuffix(s[:cut], ".")
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func orUnknown(v string) string {
	if v == "" {
		return "(version unknown)"
	}
	return v
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
