package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// A whole plugin: a Checker and a main that serves it. Build it as
// pbxwatch-plugin-<name> and install it in the agent's plugin_dir.
func Example() {
	// In package main:
	//
	//	func main() { sdk.Serve(&queueCheck{}) }
	//
	// Here the checker runs directly, as a unit test would.
	c := &queueCheck{}
	cfg := sdk.NewConfig("fax_queue", os.TempDir(), "/etc/pbxwatch/pbxwatch.yml", []byte("dir: /nonexistent\nmax_files: 10\n"), nil)
	if err := c.Configure(context.Background(), cfg); err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Check(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, res.Summary, res.Diagnoses[0].Code)
	// Output: CRITICAL cannot read the queue queue.unreadable
}

// queueCheck counts the files waiting in a spool directory.
type queueCheck struct {
	cfg struct {
		Dir      string `yaml:"dir"`
		MaxFiles int    `yaml:"max_files"`
	}
}

func (q *queueCheck) Configure(_ context.Context, cfg *sdk.Config) error {
	if err := cfg.Decode(&q.cfg); err != nil {
		return err
	}
	if q.cfg.Dir == "" {
		return errors.New("dir is required: the spool directory to watch")
	}
	return nil
}

func (q *queueCheck) Check(ctx context.Context) (*sdk.Result, error) {
	entries, err := os.ReadDir(q.cfg.Dir)
	res := &sdk.Result{}
	if err != nil {
		res.Summary = "cannot read the queue"
		res.Diagnose(sdk.Diagnosis{
			Code: "queue.unreadable", Severity: sdk.SeverityCritical,
			Message:     fmt.Sprintf("Cannot list %s: %v.", q.cfg.Dir, err),
			Remediation: []string{"Check that the directory exists and that the pbxwatch user may read it."},
			Details:     map[string]string{"dir": q.cfg.Dir},
		})
		return res, nil
	}
	res.AddGauge("queue_files", "Files waiting in the queue.", float64(len(entries)), nil)
	res.Summary = fmt.Sprintf("%d files waiting", len(entries))
	return res, nil
}

// Diagnose adds a cause and raises the status to what its severity
// implies; info diagnoses raise nothing.
func ExampleResult_Diagnose() {
	res := &sdk.Result{Summary: "trunk registration"}
	res.Diagnose(sdk.Diagnosis{Code: "trunk.latency_high", Severity: sdk.SeverityWarning,
		Message: "OPTIONS answered in 900ms.", Remediation: []string{"Check the uplink's load."}})
	fmt.Println(res.Status)
	res.Diagnose(sdk.Diagnosis{Code: "trunk.unregistered", Severity: sdk.SeverityCritical,
		Message: "The provider answered 403 to REGISTER.", Remediation: []string{"Check the trunk's secret."}})
	fmt.Println(res.Status, len(res.Diagnoses))
	// Output:
	// WARNING
	// CRITICAL 2
}

// Metrics are exported under their own name, with a "check" label added by
// the agent. Use base units (seconds, bytes) and _total for counters.
func ExampleResult_AddGauge() {
	res := &sdk.Result{}
	res.AddGauge("trunk_options_rtt_seconds", "Round trip of a SIP OPTIONS ping.", 0.042, map[string]string{"trunk": "provider-a"})
	res.AddCounter("trunk_options_failures_total", "OPTIONS pings that got no answer.", 3, map[string]string{"trunk": "provider-a"})
	for _, m := range res.Metrics {
		fmt.Println(m.Type, m.Name, m.Labels, m.Value)
	}
	// Output:
	// gauge trunk_options_rtt_seconds map[trunk:provider-a] 0.042
	// counter trunk_options_failures_total map[trunk:provider-a] 3
}

// Decode is strict: a key the config type does not declare is an error
// naming the line of the agent's config file the key is on.
func ExampleConfig_Decode() {
	// The agent hands the block re-encoded (lines 1..2) with a map to the
	// lines of its own file (31..32).
	cfg := sdk.NewConfig("tls_gui", "", "/etc/pbxwatch/pbxwatch.yml",
		[]byte("address: pbx.example.com:443\nwarn_dayz: 10\n"), map[int]int{1: 31, 2: 32})
	var c struct {
		Address  string `yaml:"address"`
		WarnDays int    `yaml:"warn_days"`
	}
	fmt.Println(cfg.Decode(&c))
	// Output: /etc/pbxwatch/pbxwatch.yml:32: unknown key "warn_dayz": did you mean "warn_days"? (valid here: address, warn_days)
}

// endpointConfig validates itself in its func-style UnmarshalYAML, each
// problem at its key's line.
type endpointConfig struct {
	Address  string `yaml:"address"`
	WarnDays int    `yaml:"warn_days"`
}

func (c *endpointConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = endpointConfig{WarnDays: 21}
	type plain endpointConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	if c.Address == "" {
		p.Add("address", "address is required: host:port of the endpoint, e.g. pbx.example.com:443")
	}
	if c.WarnDays < 1 {
		p.Add("warn_days", "warn_days %d: want at least 1 (days before expiry to warn)", c.WarnDays)
	}
	return p.Err()
}

// Problems reports each problem at the line of its key in the agent's
// config file (a missing key at the block's first line), all at once.
func ExampleProblems() {
	cfg := sdk.NewConfig("tls_gui", "", "/etc/pbxwatch/pbxwatch.yml",
		[]byte("# the GUI's certificate\nwarn_days: 0\n"), map[int]int{1: 31, 2: 32})
	var c endpointConfig
	fmt.Println(cfg.Decode(&c))
	// Output:
	// /etc/pbxwatch/pbxwatch.yml:32: address is required: host:port of the endpoint, e.g. pbx.example.com:443
	// /etc/pbxwatch/pbxwatch.yml:32: warn_days 0: want at least 1 (days before expiry to warn)
}

// LoadSecret reads `secret:` or `secret_file:`; the value never prints and
// is scrubbed from everything the plugin sends.
func ExampleLoadSecret() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "ami.secret")
	_ = os.WriteFile(file, []byte("s3cr3t-Value\n"), 0o600)

	secret, err := sdk.LoadSecret("secret", "", file)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(map[string]any{"secret": secret})
	fmt.Printf("%v %s %q\n", secret, b, sdk.Scrub("ok"))
	fmt.Println(sdk.Scrub("login failed for s3cr3t-Value"))
	fmt.Println(len(secret.Reveal()))
	// Output:
	// <secret> {"secret":"\u003csecret\u003e"} "ok"
	// login failed for <secret>
	// 12
}

// Worse combines statuses; UNKNOWN ranks between WARNING and CRITICAL.
func ExampleWorse() {
	fmt.Println(sdk.Worse(sdk.StatusWarning, sdk.StatusUnknown), sdk.Worse(sdk.StatusCritical, sdk.StatusUnknown))
	// Output: UNKNOWN CRITICAL
}

// ParseStatus reads a status name back.
func ExampleParseStatus() {
	s, err := sdk.ParseStatus("WARNING")
	fmt.Println(int(s), err)
	_, err = sdk.ParseStatus("warn")
	fmt.Println(err)
	// Output:
	// 1 <nil>
	// unknown status "warn" (want OK, WARNING, CRITICAL or UNKNOWN)
}

// Logger writes JSON lines to stderr, which the agent re-logs tagged with
// the check; never write to stdout.
func ExampleLogger() {
	sdk.Logger().Info("probing", "address", "127.0.0.1:5038", "timeout", 5*time.Second)
}

// Events become alerts of their own (PbxwatchLogEvent), one per event.
func ExampleEvent() {
	res := &sdk.Result{}
	res.Events = append(res.Events, sdk.Event{Name: "fax_failed", Severity: sdk.SeverityWarning,
		Message: "Fax to +4930123 failed: no answer", Labels: map[string]string{"queue": "outbound"}})
	fmt.Println(len(res.Events), res.Events[0].Name)
	// Output: 1 fax_failed
}
