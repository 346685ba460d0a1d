package whmcs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// config is the check's `config:` block.
type config struct {
	URL               string        `yaml:"url"`
	Identifier        sdk.Secret    `yaml:"identifier"`
	IdentifierFile    string        `yaml:"identifier_file"`
	Secret            sdk.Secret    `yaml:"secret"`
	SecretFile        string        `yaml:"secret_file"`
	AccessKey         sdk.Secret    `yaml:"access_key"`
	AccessKeyFile     string        `yaml:"access_key_file"`
	RequiredActions   []string      `yaml:"required_actions"`
	OIDC              bool          `yaml:"oidc"`
	TLS               tlsConfig     `yaml:"tls"`
	CertExpiryWarning time.Duration `yaml:"cert_expiry_warning"`
	RequestTimeout    time.Duration `yaml:"request_timeout"`

	// Resolved by validate.
	root      *url.URL // the install's root, ending in "/"
	endpoint  *url.URL // root + includes/api.php
	tlsClient *tls.Config
}

type tlsConfig struct {
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	ServerName         string `yaml:"server_name"`
}

const apiPath = "includes/api.php"

var defaultConfig = config{
	RequiredActions:   []string{"GetClients", "GetClientsProducts", "GetProducts"},
	CertExpiryWarning: 14 * 24 * time.Hour,
	RequestTimeout:    10 * time.Second,
}

// UnmarshalYAML applies defaults and validates, each problem at its key's
// line. The func-style signature keeps sdk.Config.Decode strict about
// unknown keys.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = defaultConfig
	c.RequiredActions = append([]string(nil), defaultConfig.RequiredActions...)
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	c.validate(p)
	return p.Err()
}

// validate checks every option and resolves URLs, secrets and TLS
// settings, adding every problem to p.
func (c *config) validate(p *sdk.Problems) {
	// A given key's problem names the key after its line; a missing key's
	// message names it already.
	add := func(key string, err error) {
		switch {
		case err == nil:
		case p.Has(key):
			p.Add(key, "%s: %v", key, err)
		default:
			p.Add(key, "%v", err)
		}
	}
	// sdk.LoadSecret's errors name their key already: only the line goes
	// in front ("secret_file: secret_file: open ..." otherwise).
	addSecret := func(key string, err error) {
		if err != nil {
			p.Add(key, "%v", err)
		}
	}
	add("url", c.resolveURL())
	var err error
	c.Identifier, err = sdk.LoadSecret("identifier", c.Identifier, c.IdentifierFile)
	addSecret(secretKey("identifier", c.IdentifierFile), err)
	c.Secret, err = sdk.LoadSecret("secret", c.Secret, c.SecretFile)
	addSecret(secretKey("secret", c.SecretFile), err)
	if c.AccessKey != "" || c.AccessKeyFile != "" {
		c.AccessKey, err = sdk.LoadSecret("access_key", c.AccessKey, c.AccessKeyFile)
		addSecret(secretKey("access_key", c.AccessKeyFile), err)
		if err == nil {
			add(secretKey("access_key", c.AccessKeyFile), checkAccessKeyChars(c.AccessKey.Reveal()))
		}
	}
	c.RequiredActions, err = checkActions(c.RequiredActions)
	add("required_actions", err)
	c.tlsClient, err = c.TLS.build()
	add("tls", err)
	if c.CertExpiryWarning < 0 {
		add("cert_expiry_warning", fmt.Errorf("%s is negative: give how long before expiry to warn, e.g. 336h (14 days)", c.CertExpiryWarning))
	}
	if c.RequestTimeout <= 0 {
		add("request_timeout", fmt.Errorf("%s: want a positive duration such as 10s (each HTTP request's limit; the check's timeout still bounds the run)", c.RequestTimeout))
	}
}

func secretKey(name, file string) string {
	if file != "" {
		return name + "_file"
	}
	return name
}

// resolveURL accepts the install's root or the full .../includes/api.php.
func (c *config) resolveURL() error {
	if c.URL == "" {
		return errors.New("url is required: the WHMCS root (https://billing.example.com/) or its API endpoint (.../includes/api.php)")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", c.URL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http:// or https:// URL", c.URL)
	case u.Host == "":
		return fmt.Errorf("%q has no host", c.URL)
	case u.User != nil:
		return errors.New("must not carry a user or password: put the API credential in identifier/secret (or their _file keys)")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q: remove the query string or fragment; the plugin sends the action in the POST body", c.URL)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimRight(strings.TrimSuffix(p, "/"+apiPath), "/")
	root := *u
	root.Path = p + "/"
	root.RawPath = ""
	c.root = &root
	c.endpoint = root.JoinPath(apiPath)
	return nil
}

// accessKeyChars are the characters WHMCS documents for $api_access_key.
var accessKeyChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9!@#$%.()*\[\]_-]+$`) })

func checkAccessKeyChars(v string) error {
	if !accessKeyChars().MatchString(v) {
		return errors.New("contains a character WHMCS does not allow in $api_access_key (allowed: letters, digits and ! @ # $ % . ( ) * [ ] - _); set the same value in configuration.php and here")
	}
	return nil
}

func (t tlsConfig) build() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify, ServerName: t.ServerName}
	if t.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", t.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}
