package freepbx

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// config is the check's `config:` block.
type config struct {
	// URL is the FreePBX base, e.g. https://pbx.example.com (a trailing
	// /admin, as the GUI shows API addresses, is accepted).
	URL string `yaml:"url"`
	// TokenURL and GraphQLURL override the endpoints derived from URL, to
	// check exactly what an integration is configured with.
	TokenURL   string `yaml:"token_url"`
	GraphQLURL string `yaml:"graphql_url"`

	ClientID         string     `yaml:"client_id"`
	ClientSecret     sdk.Secret `yaml:"client_secret"`
	ClientSecretFile string     `yaml:"client_secret_file"`

	// Scopes are requested with the token; none means the application's
	// allowed scopes.
	Scopes []string `yaml:"scopes"`
	// RequiredScopes are what the integration needs the token to cover.
	RequiredScopes []string `yaml:"required_scopes"`
	ProbeQuery     string   `yaml:"probe_query"`
	// ExpectedExtensions must be among the probe's extensionIds.
	ExpectedExtensions []string `yaml:"expected_extensions"`

	TLS tlsConfig `yaml:"tls"`

	// The server-side look-up in FreePBX's database (serverconfig.go).
	FreePBXConf          string     `yaml:"freepbx_conf"`
	DatabaseDSN          sdk.Secret `yaml:"database_dsn"`
	DatabasePasswordFile string     `yaml:"database_password_file"`
	KeysDir              string     `yaml:"keys_dir"`
	WebUser              string     `yaml:"web_user"`
	ProbeWrongSecret     bool       `yaml:"probe_wrong_secret"`
	databasePassword     sdk.Secret // from database_password_file
}

type tlsConfig struct {
	CAFile             string `yaml:"ca_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

const (
	tokenPath = "/admin/api/api/token"
	gqlPath   = "/admin/api/api/gql"
	// defaultProbe asks for extensionId too (the minimal query
	// lacks it) so expected_extensions works without a custom query.
	defaultProbe = "{ fetchAllExtensions { status message totalCount extension { extensionId } } }"
)

var defaultRequired = []string{"gql:core:read"}

// UnmarshalYAML applies defaults, validates and loads the secrets, each
// problem at its key's line. The func-style signature keeps
// sdk.Config.Decode strict about unknown keys.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = config{RequiredScopes: defaultRequired, ProbeQuery: defaultProbe}
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	c.validate(p)
	if p.Err() == nil {
		c.loadSecrets(p)
	}
	return p.Err()
}

// validate adds every problem to p.
func (c *config) validate(p *sdk.Problems) {
	c.validateURLs(p)
	if c.ClientID == "" {
		p.Add("client_id", "client_id is required: the Client ID of the Machine-to-Machine application in Connectivity → API → Applications")
	}
	if c.ClientSecret != "" && c.ClientSecretFile != "" {
		p.Add("client_secret", "client_secret and client_secret_file are both set: keep one (client_secret_file is preferred)")
	} else if c.ClientSecret == "" && c.ClientSecretFile == "" {
		p.Add("client_id", "client_secret_file is required: a file holding the application's Client Secret (or client_secret: ${ENV_VAR})")
	}
	for i, s := range c.Scopes {
		if err := checkScope(s); err != nil {
			p.Add("scopes", "scopes[%d]: %v", i, err)
		}
	}
	for i, s := range c.RequiredScopes {
		if err := checkScope(s); err != nil {
			p.Add("required_scopes", "required_scopes[%d]: %v", i, err)
		}
	}
	c.validateProbe(p)
	c.validateServerSide(p)
	if c.TLS.CAFile != "" {
		if _, err := os.ReadFile(c.TLS.CAFile); err != nil {
			p.Add("tls", "tls.ca_file: %v", err)
		}
	}
}

func (c *config) validateURLs(p *sdk.Problems) {
	if c.URL == "" && (c.TokenURL == "" || c.GraphQLURL == "") {
		p.Add("url", "url is required: the FreePBX base address, e.g. https://pbx.example.com")
		return
	}
	if c.URL != "" {
		u, err := absURL(c.URL)
		if err != nil {
			p.Add("url", "url: %v", err)
		} else {
			// The GUI shows API addresses under /admin; accept that base too.
			base := strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/admin")
			if c.TokenURL == "" {
				c.TokenURL = base + tokenPath
			}
			if c.GraphQLURL == "" {
				c.GraphQLURL = base + gqlPath
			}
		}
	}
	for _, kv := range [][2]string{{"token_url", c.TokenURL}, {"graphql_url", c.GraphQLURL}} {
		if _, err := absURL(kv[1]); err != nil && p.Has(kv[0]) {
			p.Add(kv[0], "%s: %v", kv[0], err)
		}
	}
	if (c.TLS != tlsConfig{}) && !strings.HasPrefix(c.TokenURL, "https:") && !strings.HasPrefix(c.GraphQLURL, "https:") {
		p.Add("tls", "tls is set but the API is reached over http: use an https:// url or drop tls")
	}
}

func absURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// address with a host", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q carries credentials: FreePBX's API takes none in the URL; use client_id and client_secret_file", u.Redacted())
	}
	return u, nil
}

func (c *config) validateProbe(p *sdk.Problems) {
	q := strings.TrimSpace(c.ProbeQuery)
	if q == "" || !(strings.HasPrefix(q, "{") || strings.HasPrefix(q, "query")) {
		p.Add("probe_query", "probe_query must be a GraphQL query such as %s", defaultProbe)
	}
	for i, e := range c.ExpectedExtensions {
		if strings.TrimSpace(e) == "" {
			p.Add("expected_extensions", "expected_extensions[%d] is empty", i)
		} else if slices.Index(c.ExpectedExtensions, e) != i {
			p.Add("expected_extensions", "expected_extensions[%d] %q is listed twice", i, e)
		}
	}
	if len(c.ExpectedExtensions) > 0 && (!strings.Contains(q, "fetchAllExtensions") || !strings.Contains(q, "extensionId")) {
		p.Add("expected_extensions", "expected_extensions needs a probe_query that lists fetchAllExtensions { extension { extensionId } }; drop probe_query to use the default")
	}
}

// loadSecrets resolves the client secret and the database credentials of
// a valid config.
func (c *config) loadSecrets(p *sdk.Problems) {
	s, err := sdk.LoadSecret("client_secret", c.ClientSecret, c.ClientSecretFile)
	if err != nil {
		key := "client_secret_file"
		if c.ClientSecret != "" {
			key = "client_secret"
		}
		p.Add(key, "%v", err)
		return
	}
	c.ClientSecret = s
	c.loadServerSecrets(p)
}
