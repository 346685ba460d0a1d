package fleet

import (
	"net/url"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Config is the agent's `fleet:` block: where the fleet page reads the
// fleet from.
type Config struct {
	// PrometheusURL is the engine's base URL (as for its own web UI).
	PrometheusURL string `yaml:"prometheus_url"`
	// SilentAfter: a host that reported in the last day but not for this
	// long is silent (as the PbxwatchHostSilent rule; default 5m).
	SilentAfter time.Duration `yaml:"silent_after"`
}

// UnmarshalYAML decodes strictly and validates, each problem at its line.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Config{SilentAfter: DefaultSilentAfter}
	type plain Config
	p := sdk.NewProblems(unmarshal)
	if err := p.Nested(unmarshal((*plain)(c))); err != nil {
		return err
	}
	c.validate(p)
	return p.Err()
}

func (c *Config) validate(p *sdk.Problems) {
	const example = "such as http://prometheus.example.com:9090"
	u, err := url.Parse(c.PrometheusURL)
	switch {
	case c.PrometheusURL == "":
		p.Add("prometheus_url", "fleet: prometheus_url is empty: give the base URL of Prometheus (or of any engine with its HTTP API), %s", example)
	case err != nil:
		p.Add("prometheus_url", "fleet: prometheus_url is not a URL: give the base URL, %s", example)
	case u.Scheme != "http" && u.Scheme != "https":
		p.Add("prometheus_url", "fleet: prometheus_url %q must start with http:// or https://", u.Redacted())
	case u.Host == "":
		p.Add("prometheus_url", "fleet: prometheus_url %q has no host", u.Redacted())
	case u.User != nil:
		p.Add("prometheus_url", "fleet: prometheus_url %q carries credentials: they would show on the fleet page; put the engine behind a proxy that authenticates the agent, or use a loopback address", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		p.Add("prometheus_url", "fleet: prometheus_url %q: remove the ?query or #fragment", u.Redacted())
	case strings.Contains(u.Path, "/api/v1"):
		p.Add("prometheus_url", "fleet: prometheus_url %q: give the base URL, without /api/v1/... (the queries add it)", u.Redacted())
	}
	if c.SilentAfter < time.Second {
		p.Add("silent_after", "fleet: silent_after must be at least 1s (default %s, as the PbxwatchHostSilent rule)", DefaultSilentAfter)
	}
}
