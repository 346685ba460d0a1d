package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// config is the check's `config:` block.
type config struct {
	// Address is host:port of the TLS endpoint.
	Address string `yaml:"address"`
	// ServerName is the name the certificate must carry; default the host
	// part of Address.
	ServerName string `yaml:"server_name"`
	// CAFile holds extra CA certificates (PEM) to trust beside the
	// system's, e.g. a private CA.
	CAFile string `yaml:"ca_file"`
	// WarnDays and CriticalDays: how many days before expiry the check
	// turns WARNING and CRITICAL.
	WarnDays     int `yaml:"warn_days"`
	CriticalDays int `yaml:"critical_days"`

	roots *x509.CertPool
}

// UnmarshalYAML applies defaults and validates. The func-style signature
// keeps sdk.Config.Decode strict about unknown keys; sdk.Problems puts
// each problem at its key's line, which the agent reports as FILE:LINE.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = config{WarnDays: 21, CriticalDays: 7}
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	host, _, err := net.SplitHostPort(c.Address)
	switch {
	case c.Address == "":
		p.Add("address", "address is required: host:port of the TLS endpoint, e.g. pbx.example.com:443")
	case err != nil:
		p.Add("address", "address %q: %v (write host:port)", c.Address, err)
	case c.ServerName == "":
		c.ServerName = host
	}
	if c.CriticalDays < 0 || c.WarnDays < c.CriticalDays {
		p.Add("critical_days", "need 0 <= critical_days (%d) <= warn_days (%d)", c.CriticalDays, c.WarnDays)
	}
	if c.CAFile != "" {
		if c.roots, err = loadRoots(c.CAFile); err != nil {
			p.Add("ca_file", "%v", err)
		}
	}
	return p.Err()
}

// loadRoots returns the system roots plus the certificates in file.
func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", file)
	}
	return pool, nil
}
