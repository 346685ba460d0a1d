package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

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

	// lines maps keys to their line in the block, for errors raised after
	// decoding (the secret file).
	lines map[string]int
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

// UnmarshalYAML applies defaults and validates, naming the line of every
// problem. Unknown keys are rejected here because a yaml.Node decode is not
// strict on its own.
func (c *config) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the freepbx check's config must be a mapping with url, client_id and client_secret_file", n.Line)
	}
	var errs []error
	errs = append(errs, unknownKeys(n, reflect.TypeFor[config](), "")...)
	type plain config
	p := plain{RequiredScopes: defaultRequired, ProbeQuery: defaultProbe}
	if err := n.Decode(&p); err != nil {
		return errors.Join(append(errs, err)...)
	}
	*c = config(p)
	c.lines = keyLines(n)
	errs = append(errs, c.validate()...)
	return errors.Join(errs...)
}

// unknownKeys lists keys of mapping n that t's yaml tags do not declare,
// descending into nested struct fields.
func unknownKeys(n *yaml.Node, t reflect.Type, prefix string) []error {
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			fields[tag] = t.Field(i).Type
			names = append(names, tag)
		}
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %s%s (known: %s)", k.Line, prefix, k.Value, strings.Join(names, ", ")))
			continue
		}
		if ft.Kind() == reflect.Struct && v.Kind == yaml.MappingNode {
			errs = append(errs, unknownKeys(v, ft, prefix+k.Value+".")...)
		}
	}
	return errs
}

func keyLines(n *yaml.Node) map[string]int {
	m := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i].Line
	}
	return m
}

// at prefixes msg with the line of key (or of the block when key is absent).
func (c *config) at(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if l, ok := c.lines[key]; ok {
		return fmt.Errorf("line %d: %s", l, msg)
	}
	return errors.New(msg)
}

func (c *config) validate() []error {
	var errs []error
	errs = append(errs, c.validateURLs()...)
	if c.ClientID == "" {
		errs = append(errs, c.at("client_id", "client_id is required: the Client ID of the Machine-to-Machine application in Connectivity → API → Applications"))
	}
	if c.ClientSecret != "" && c.ClientSecretFile != "" {
		errs = append(errs, c.at("client_secret", "client_secret and client_secret_file are both set: keep one (client_secret_file is preferred)"))
	} else if c.ClientSecret == "" && c.ClientSecretFile == "" {
		errs = append(errs, c.at("client_id", "client_secret_file is required: a file holding the application's Client Secret (or client_secret: ${ENV_VAR})"))
	}
	for i, s := range c.Scopes {
		if err := checkScope(s); err != nil {
			errs = append(errs, c.at("scopes", "scopes[%d]: %v", i, err))
		}
	}
	for i, s := range c.RequiredScopes {
		if err := checkScope(s); err != nil {
			errs = append(errs, c.at("required_scopes", "required_scopes[%d]: %v", i, err))
		}
	}
	errs = append(errs, c.validateProbe()...)
	errs = append(errs, c.validateServerSide()...)
	if c.TLS.CAFile != "" {
		if _, err := os.ReadFile(c.TLS.CAFile); err != nil {
			errs = append(errs, c.at("tls", "tls.ca_file: %v", err))
		}
	}
	return errs
}

func (c *config) validateURLs() []error {
	var errs []error
	if c.URL == "" && (c.TokenURL == "" || c.GraphQLURL == "") {
		return []error{c.at("url", "url is required: the FreePBX base address, e.g. https://pbx.example.com")}
	}
	if c.URL != "" {
		u, err := absURL(c.URL)
		if err != nil {
			errs = append(errs, c.at("url", "url: %v", err))
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
		if _, err := absURL(kv[1]); err != nil && c.lines[kv[0]] != 0 {
			errs = append(errs, c.at(kv[0], "%s: %v", kv[0], err))
		}
	}
	if (c.TLS != tlsConfig{}) && !strings.HasPrefix(c.TokenURL, "https:") && !strings.HasPrefix(c.GraphQLURL, "https:") {
		errs = append(errs, c.at("tls", "tls is set but the API is reached over http: use an https:// url or drop tls"))
	}
	return errs
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

func (c *config) validateProbe() []error {
	var errs []error
	q := strings.TrimSpace(c.ProbeQuery)
	if q == "" || !(strings.HasPrefix(q, "{") || strings.HasPrefix(q, "query")) {
		errs = append(errs, c.at("probe_query", "probe_query must be a GraphQL query such as %s", defaultProbe))
	}
	for i, e := range c.ExpectedExtensions {
		if strings.TrimSpace(e) == "" {
			errs = append(errs, c.at("expected_extensions", "expected_extensions[%d] is empty", i))
		} else if slices.Index(c.ExpectedExtensions, e) != i {
			errs = append(errs, c.at("expected_extensions", "expected_extensions[%d] %q is listed twice", i, e))
		}
	}
	if len(c.ExpectedExtensions) > 0 && (!strings.Contains(q, "fetchAllExtensions") || !strings.Contains(q, "extensionId")) {
		errs = append(errs, c.at("expected_extensions", "expected_extensions needs a probe_query that lists fetchAllExtensions { extension { extensionId } }; drop probe_query to use the default"))
	}
	return errs
}

// loadSecret resolves the client secret after decoding; the error carries
// the line of the key, for sdk.Config.Locate.
func (c *config) loadSecret() error {
	s, err := sdk.LoadSecret("client_secret", c.ClientSecret, c.ClientSecretFile)
	if err != nil {
		key := "client_secret_file"
		if c.ClientSecret != "" {
			key = "client_secret"
		}
		return c.at(key, "%v", err)
	}
	c.ClientSecret = s
	return nil
}
