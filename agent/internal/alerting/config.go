package alerting

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Defaults of the `alerting:` block.
const (
	DefaultResendInterval   = time.Minute
	DefaultTimeout          = 10 * time.Second
	DefaultEventQuietPeriod = 5 * time.Minute
	// ResolvedRetention is how long a resolved alert keeps being re-sent
	// (Prometheus' resolvedRetention), so that an Alertmanager that missed
	// the first resolved notification still learns of it.
	ResolvedRetention = 15 * time.Minute
)

// Config is the top-level `alerting:` block. The zero value (no
// Alertmanagers) disables sending; alert state is still kept.
type Config struct {
	Alertmanagers []AlertmanagerConfig `yaml:"alertmanagers"`
	// ResendInterval is how often a firing alert is re-sent; its endsAt is
	// now + 4 × ResendInterval, so two lost sends do not resolve it.
	ResendInterval time.Duration `yaml:"resend_interval"`
	// EventQuietPeriod is how long a PbxwatchLogEvent alert stays firing
	// after the last matching event.
	EventQuietPeriod time.Duration     `yaml:"event_quiet_period"`
	ExternalLabels   map[string]string `yaml:"external_labels"`
	// RunbookBaseURL is the page documenting every diagnosis code, one
	// anchor per code; each alert's runbook_url is this plus #<code>
	// (default DefaultRunbookBaseURL).
	RunbookBaseURL string `yaml:"runbook_base_url"`
}

// AlertmanagerConfig is one entry of `alertmanagers:`.
type AlertmanagerConfig struct {
	// URL is the Alertmanager's base URL; alerts go to URL/api/v2/alerts.
	URL             string        `yaml:"url"`
	Timeout         time.Duration `yaml:"timeout"`
	BasicAuth       *BasicAuth    `yaml:"basic_auth"`
	BearerTokenFile string        `yaml:"bearer_token_file"`
	TLS             TLSConfig     `yaml:"tls"`
}

// BasicAuth holds HTTP basic credentials; give Password or PasswordFile.
type BasicAuth struct {
	Username     string     `yaml:"username"`
	Password     sdk.Secret `yaml:"password"`
	PasswordFile string     `yaml:"password_file"`
}

// TLSConfig configures HTTPS to an Alertmanager.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// UnmarshalYAML applies the defaults and validates. The func-style
// signature keeps the outer decoder's strictness (unknown keys are errors).
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Config{ResendInterval: DefaultResendInterval, EventQuietPeriod: DefaultEventQuietPeriod}
	type plain Config
	p := sdk.NewProblems(unmarshal)
	// Problems of the Alertmanager entries: report the block's own too.
	if err := p.Nested(unmarshal((*plain)(c))); err != nil {
		return err
	}
	c.validate(p)
	return p.Err()
}

// UnmarshalYAML applies the per-Alertmanager defaults and validates.
func (a *AlertmanagerConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*a = AlertmanagerConfig{Timeout: DefaultTimeout}
	type plain AlertmanagerConfig
	if err := unmarshal((*plain)(a)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	a.validate(p)
	return p.Err()
}

// withDefaults fills what a Config built in Go (not decoded) left zero.
func (c Config) withDefaults() Config {
	if c.ResendInterval == 0 {
		c.ResendInterval = DefaultResendInterval
	}
	if c.EventQuietPeriod == 0 {
		c.EventQuietPeriod = DefaultEventQuietPeriod
	}
	ams := make([]AlertmanagerConfig, len(c.Alertmanagers))
	for i, am := range c.Alertmanagers {
		if am.Timeout == 0 {
			am.Timeout = DefaultTimeout
		}
		ams[i] = am
	}
	c.Alertmanagers = ams
	return c
}

var labelName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`) })

// builtinLabels are set by the agent; a check's labels may not override
// them and external labels may only override instance.
var builtinLabels = map[string]bool{
	"alertname": true, "check": true, "plugin": true, "code": true, "severity": true, "pattern": true, "instance": true,
}

// Validate reports every problem of a Config (defaults already applied),
// including its Alertmanager entries.
func (c *Config) Validate() error {
	p := &sdk.Problems{}
	c.validate(p)
	for i := range c.Alertmanagers {
		c.Alertmanagers[i].validate(p)
	}
	return p.Err()
}

func (c *Config) validate(p *sdk.Problems) {
	if c.ResendInterval <= 0 {
		p.Add("resend_interval", "alerting.resend_interval must be positive (default %s)", DefaultResendInterval)
	}
	if c.EventQuietPeriod <= 0 {
		p.Add("event_quiet_period", "alerting.event_quiet_period must be positive (default %s)", DefaultEventQuietPeriod)
	}
	for _, k := range sortedKeys(c.ExternalLabels) {
		switch {
		case !labelName().MatchString(k):
			p.Add("external_labels", "alerting.external_labels: %q is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", k)
		case builtinLabels[k] && k != "instance":
			p.Add("external_labels", "alerting.external_labels: %q is set by the agent; choose another name", k)
		}
	}
	if c.RunbookBaseURL != "" && !isAbsoluteURL(c.RunbookBaseURL) {
		p.Add("runbook_base_url", "alerting.runbook_base_url %q: want an absolute http(s) URL such as %s", c.RunbookBaseURL, DefaultRunbookBaseURL)
	}
	seen := map[string]bool{}
	for _, am := range c.Alertmanagers {
		if seen[am.URL] {
			p.Add("alertmanagers", "alerting.alertmanagers: %s is listed twice", shownURL(am.URL))
		}
		seen[am.URL] = true
	}
}

func (a *AlertmanagerConfig) validate(p *sdk.Problems) {
	u, err := url.Parse(a.URL)
	switch {
	case a.URL == "":
		p.Add("url", "alertmanager url is empty: set e.g. url: http://127.0.0.1:9093")
	case err != nil:
		// Go's error quotes the URL, or the part after a colon as the
		// "port": a password's. Neither is shown.
		p.Add("url", "alertmanager url %q cannot be parsed: %s", shownURL(a.URL), urlProblem(err))
	case u.Scheme != "http" && u.Scheme != "https":
		p.Add("url", "alertmanager url %q must start with http:// or https://", shownURL(a.URL))
	case u.Host == "":
		p.Add("url", "alertmanager url %q has no host", shownURL(a.URL))
	case u.User != nil:
		p.Add("url", "alertmanager url %q carries credentials: move them to basic_auth (with password_file) so they are never logged", shownURL(a.URL))
	case u.RawQuery != "" || u.Fragment != "":
		p.Add("url", "alertmanager url %q: remove the query or fragment; give the base URL only", shownURL(a.URL))
	}
	if a.Timeout <= 0 {
		p.Add("timeout", "alertmanager %s: timeout must be positive (default %s)", shownURL(a.URL), DefaultTimeout)
	}
	if b := a.BasicAuth; b != nil {
		if b.Username == "" {
			p.Add("basic_auth", "alertmanager %s: basic_auth.username is empty", shownURL(a.URL))
		}
		if b.Password != "" && b.PasswordFile != "" {
			p.Add("basic_auth", "alertmanager %s: give basic_auth.password or basic_auth.password_file, not both", shownURL(a.URL))
		}
		if a.BearerTokenFile != "" {
			p.Add("bearer_token_file", "alertmanager %s: give basic_auth or bearer_token_file, not both", shownURL(a.URL))
		}
	}
	if (a.TLS.CertFile == "") != (a.TLS.KeyFile == "") {
		p.Add("tls", "alertmanager %s: tls.cert_file and tls.key_file go together", shownURL(a.URL))
	}
}

// httpConfig maps an Alertmanager entry to Prometheus' client config, whose
// round tripper re-reads password, token and CA files on change.
func (a AlertmanagerConfig) httpConfig() promconfig.HTTPClientConfig {
	hc := promconfig.HTTPClientConfig{
		BearerTokenFile: a.BearerTokenFile,
		TLSConfig: promconfig.TLSConfig{
			CAFile: a.TLS.CAFile, CertFile: a.TLS.CertFile, KeyFile: a.TLS.KeyFile,
			InsecureSkipVerify: a.TLS.InsecureSkipVerify,
		},
		FollowRedirects: true,
		EnableHTTP2:     true,
	}
	if b := a.BasicAuth; b != nil {
		hc.BasicAuth = &promconfig.BasicAuth{Username: b.Username, Password: promconfig.Secret(b.Password), PasswordFile: b.PasswordFile}
	}
	return hc
}

// CheckAlert is a check's `alert:` block.
type CheckAlert struct {
	// For is how long a (check, code) must keep failing before its alert
	// fires; until then it is pending and not sent.
	For time.Duration `yaml:"for"`
	// KeepFiringFor is how long a firing alert stays firing after its
	// code was last reported (Prometheus' keep_firing_for): a cause that
	// comes and goes between runs stays one alert. Default 0: resolve on
	// the first run without it.
	KeepFiringFor time.Duration `yaml:"keep_firing_for"`
	// Severity overrides the severity label, which otherwise comes from the
	// diagnosis (warning or critical).
	Severity   string            `yaml:"severity"`
	Labels     map[string]string `yaml:"labels"`
	RunbookURL string            `yaml:"runbook_url"`
	// Annotations are added to every alert of the check, over the
	// agent's: runbook_url here replaces the code's page, dashboard_url
	// adds a link. summary, description and remediation carry the cause
	// and cannot be replaced.
	Annotations map[string]string `yaml:"annotations"`
}

// agentAnnotations hold the diagnosis itself; alert.annotations may not
// replace them, or a notification would lose its cause and steps.
var agentAnnotations = map[string]bool{"summary": true, "description": true, "remediation": true, "count": true}

// shownURL is an Alertmanager URL as an error may show it: without its
// password when it parses, and without anything before its last '@' when
// it does not (a password with '/', '#' or '@' breaks the parse, and what
// Go would quote of it is the password's).
func shownURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Opaque == "" {
		return u.Redacted()
	}
	scheme := ""
	if j := strings.Index(raw, "://"); j >= 0 {
		scheme = raw[:j+3]
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		return scheme + "<secret>" + raw[i:]
	}
	// Unparsable without an '@': what broke it may still be a password
	// ("http://admin:pa/ss" has no host Go can read).
	return scheme + "<not shown>"
}

// urlProblem says what is wrong with a URL that does not parse, in words
// that quote none of it.
func urlProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid port"):
		return "what follows the host's colon is not a port number (a password holding '/', '?', '#' or '@' breaks a URL: move credentials to basic_auth with password_file)"
	case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment in URL cannot contain colon"):
		return "it does not start with http:// or https://"
	case strings.Contains(msg, "invalid URL escape"):
		return "a % is not followed by two hex digits (write % as %25)"
	case strings.Contains(msg, "invalid character"):
		return "it holds a character a URL may not (a space or a control character?)"
	}
	return "it is not a URL such as http://127.0.0.1:9093"
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// UnmarshalYAML decodes strictly and validates.
func (a *CheckAlert) UnmarshalYAML(unmarshal func(any) error) error {
	*a = CheckAlert{}
	type plain CheckAlert
	if err := unmarshal((*plain)(a)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	a.validate(p)
	return p.Err()
}

// Validate reports every problem of a CheckAlert.
func (a *CheckAlert) Validate() error {
	p := &sdk.Problems{}
	a.validate(p)
	return p.Err()
}

func (a *CheckAlert) validate(p *sdk.Problems) {
	if a.For < 0 {
		p.Add("for", "alert.for must not be negative")
	}
	if a.KeepFiringFor < 0 {
		p.Add("keep_firing_for", "alert.keep_firing_for must not be negative")
	}
	switch a.Severity {
	case "", "info", "warning", "critical":
	default:
		p.Add("severity", "alert.severity %q: use info, warning or critical (or leave it out to take the diagnosis' severity)", a.Severity)
	}
	for _, k := range sortedKeys(a.Labels) {
		switch {
		case !labelName().MatchString(k):
			p.Add("labels", "alert.labels: %q is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", k)
		case builtinLabels[k]:
			p.Add("labels", "alert.labels: %q is set by the agent; choose another name (severity: use alert.severity)", k)
		}
	}
	if a.RunbookURL != "" {
		if u, err := url.Parse(a.RunbookURL); err != nil || u.Scheme == "" {
			p.Add("runbook_url", "alert.runbook_url %q is not an absolute URL", a.RunbookURL)
		}
	}
	for _, k := range sortedKeys(a.Annotations) {
		switch {
		case !labelName().MatchString(k):
			p.Add("annotations", "alert.annotations: %q is not a valid annotation name ([a-zA-Z_][a-zA-Z0-9_]*)", k)
		case agentAnnotations[k]:
			p.Add("annotations", "alert.annotations: %q is written by the agent from the diagnosis; choose another name", k)
		case strings.HasSuffix(k, "_url") && !isAbsoluteURL(a.Annotations[k]):
			p.Add("annotations", "alert.annotations.%s %q: want an absolute http(s) URL", k, a.Annotations[k])
		}
	}
}

// CheckInfo is what the alerting needs to know about a configured check.
type CheckInfo struct {
	Name, Plugin string
	Alert        CheckAlert
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
