package remotewrite

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Defaults of a `remote_write:` entry (docs/fleet.md).
const (
	DefaultInterval      = 15 * time.Second
	DefaultRemoteTimeout = 30 * time.Second
	// DefaultMaxBytes bounds the disk queue of one receiver: 2.6 days of
	// the demo's checks at the default interval (docs/fleet.md).
	DefaultMaxBytes = 64 << 20
	// DefaultMaxAge is how long samples wait for a receiver. Prometheus
	// refuses samples more than about an hour older than its newest ones
	// (out of bounds), so a longer backlog would be refused anyway;
	// VictoriaMetrics takes older ones: raise it for VictoriaMetrics.
	DefaultMaxAge = 2 * time.Hour
	// MinInterval keeps a typo from pushing every millisecond.
	MinInterval = time.Second
	// minMaxBytes is the smallest queue: a few segments.
	minMaxBytes = 64 << 10
)

// Config is one entry of `remote_write:`, shaped like Prometheus's.
type Config struct {
	URL             string            `yaml:"url"`
	BasicAuth       *BasicAuth        `yaml:"basic_auth"`
	BearerTokenFile string            `yaml:"bearer_token_file"`
	TLSConfig       TLSConfig         `yaml:"tls_config"`
	Headers         map[string]string `yaml:"headers"`
	// Interval is how often the agent gathers /metrics and queues one
	// sample of every series.
	Interval time.Duration `yaml:"interval"`
	// RemoteTimeout bounds one request, answer included (a receiver that
	// trickles its answer is cut off then).
	RemoteTimeout time.Duration `yaml:"remote_timeout"`
	Queue         QueueConfig   `yaml:"queue"`
}

// BasicAuth is HTTP basic auth with the password read from a file, as every
// other secret of pbxwatch.
type BasicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// TLSConfig is Prometheus' tls_config: the CA to trust, a client
// certificate for mutual TLS.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// QueueConfig bounds the disk queue of one receiver.
type QueueConfig struct {
	MaxBytes ByteSize      `yaml:"max_bytes"`
	MaxAge   time.Duration `yaml:"max_age"`
}

// ByteSize is a size in bytes, written as a number or with a unit (B, KB,
// MB, GB, KiB, MiB, GiB; KB and KiB both mean 1024, as in Prometheus'
// retention size).
type ByteSize int64

// UnmarshalYAML reads 1048576, "1MiB" or "1MB"; a problem carries the
// value's line, as yaml.v3's own do.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	size, err := ParseByteSize(n.Value)
	if n.Kind != yaml.ScalarNode {
		err = fmt.Errorf("a size must be a number or a string such as 64MiB")
	}
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: queue.max_bytes: %v", n.Line, err)}}
	}
	*b = size
	return nil
}

var byteUnits = map[string]int64{
	"": 1, "B": 1, "KB": 1 << 10, "KIB": 1 << 10, "MB": 1 << 20, "MIB": 1 << 20, "GB": 1 << 30, "GIB": 1 << 30,
}

var byteSizeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([0-9]+)\s*([A-Za-z]*)\s*$`) })

// ParseByteSize parses a size such as 64MiB.
func ParseByteSize(s string) (ByteSize, error) {
	m := byteSizeRE().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write bytes or a number with B, KiB, MiB or GiB, such as 64MiB", s)
	}
	unit, ok := byteUnits[strings.ToUpper(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q; use B, KiB, MiB or GiB", s, m[2])
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > (1<<62)/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(n * unit), nil
}

// UnmarshalYAML applies the defaults and validates, strictly.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Config{Interval: DefaultInterval, RemoteTimeout: DefaultRemoteTimeout,
		Queue: QueueConfig{MaxBytes: DefaultMaxBytes, MaxAge: DefaultMaxAge}}
	type plain Config
	p := sdk.NewProblems(unmarshal)
	if err := p.Nested(unmarshal((*plain)(c))); err != nil {
		return err
	}
	c.validate(p)
	return p.Err()
}

// UnmarshalYAML decodes a queue block over the defaults already set.
func (q *QueueConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain QueueConfig
	return unmarshal((*plain)(q))
}

// reservedHeaders are set by the protocol or by the auth options; Prometheus
// refuses them in headers too.
var reservedHeaders = map[string]string{
	"Authorization":                     "use basic_auth or bearer_token_file",
	"Content-Encoding":                  "the protocol sets it",
	"Content-Type":                      "the protocol sets it",
	"Content-Length":                    "the protocol sets it",
	"User-Agent":                        "the agent sets it",
	"Host":                              "it comes from url",
	"X-Prometheus-Remote-Write-Version": "the protocol sets it",
}

func (c *Config) validate(p *sdk.Problems) {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		p.Add("url", "remote_write: url is empty: give the receiver's write endpoint, such as https://prometheus.example.com/api/v1/write")
	case err != nil:
		p.Add("url", "remote_write: url: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		p.Add("url", "remote_write: url %q must start with http:// or https://", u.Redacted())
	case u.Host == "":
		p.Add("url", "remote_write: url %q has no host", u.Redacted())
	case u.User != nil:
		p.Add("url", "remote_write: url %q carries credentials: move them to basic_auth with password_file, so they are never logged", u.Redacted())
	case u.Fragment != "":
		p.Add("url", "remote_write: url %q: remove the #fragment", u.Redacted())
	}
	if b := c.BasicAuth; b != nil {
		if b.Username == "" {
			p.Add("basic_auth", "remote_write %s: basic_auth.username is empty", SafeURL(c.URL))
		}
		if b.PasswordFile == "" {
			p.Add("basic_auth", "remote_write %s: basic_auth needs password_file (the password is read from a file, never written in the config)", SafeURL(c.URL))
		}
		if c.BearerTokenFile != "" {
			p.Add("bearer_token_file", "remote_write %s: give basic_auth or bearer_token_file, not both", SafeURL(c.URL))
		}
	}
	if (c.TLSConfig.CertFile == "") != (c.TLSConfig.KeyFile == "") {
		p.Add("tls_config", "remote_write %s: tls_config.cert_file and tls_config.key_file go together", SafeURL(c.URL))
	}
	for _, k := range sortedKeys(c.Headers) {
		canon := http.CanonicalHeaderKey(k)
		if why, ok := reservedHeaders[canon]; ok {
			p.Add("headers", "remote_write %s: header %s may not be set here: %s", SafeURL(c.URL), canon, why)
		}
		if !validHeaderName(k) {
			p.Add("headers", "remote_write %s: %q is not a valid header name", SafeURL(c.URL), k)
		}
		if v := c.Headers[k]; strings.ContainsAny(v, "\r\n") || !utf8.ValidString(v) {
			p.Add("headers", "remote_write %s: the value of header %s holds a line break or invalid UTF-8", SafeURL(c.URL), canon)
		}
	}
	if c.Interval < MinInterval {
		p.Add("interval", "remote_write %s: interval must be at least %s (default %s)", SafeURL(c.URL), MinInterval, DefaultInterval)
	}
	if c.RemoteTimeout <= 0 {
		p.Add("remote_timeout", "remote_write %s: remote_timeout must be positive (default %s)", SafeURL(c.URL), DefaultRemoteTimeout)
	}
	if c.Queue.MaxBytes < minMaxBytes {
		p.Add("queue", "remote_write %s: queue.max_bytes must be at least 64KiB (default 64MiB)", SafeURL(c.URL))
	}
	if c.Queue.MaxAge < c.Interval {
		p.Add("queue", "remote_write %s: queue.max_age must be at least the interval (default %s)", SafeURL(c.URL), DefaultMaxAge)
	}
}

var headerName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$") })

func validHeaderName(s string) bool { return headerName().MatchString(s) }

// SafeURL is the URL as it may be shown: no credentials, no query (a query
// may carry a token).
func SafeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// ValidateURLs reports receivers listed twice (their queues would clash).
func ValidateURLs(cfgs []Config) error {
	seen := map[string]bool{}
	for _, c := range cfgs {
		if seen[c.URL] {
			return fmt.Errorf("remote_write: %s is listed twice", SafeURL(c.URL))
		}
		seen[c.URL] = true
	}
	return nil
}

var labelName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`) })

// MaxLabelValueBytes bounds an external label's value.
const MaxLabelValueBytes = 1024

// ValidateExternalLabels checks agent.external_labels: valid names, no name
// the agent sets on alerts itself, values that are short valid UTF-8.
func ValidateExternalLabels(labels map[string]string, add func(format string, args ...any)) {
	for _, k := range sortedKeys(labels) {
		v := labels[k]
		switch {
		case !labelName().MatchString(k) || strings.HasPrefix(k, "__"):
			add("agent.external_labels: %q is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", k)
		case agentLabels[k]:
			add("agent.external_labels: %q is set by the agent on its series and alerts; choose another name", k)
		case v == "":
			add("agent.external_labels: %s is empty; give it a value or remove it", k)
		case !utf8.ValidString(v) || len(v) > MaxLabelValueBytes:
			add("agent.external_labels: the value of %s must be valid UTF-8 of at most %d bytes", k, MaxLabelValueBytes)
		}
	}
}

// agentLabels are the label names the agent sets itself (instance is the
// host's identity and may be set).
var agentLabels = map[string]bool{
	"alertname": true, "check": true, "plugin": true, "code": true, "severity": true, "pattern": true,
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
