package whmcs

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// sim is one simulator shared by the tests of this package: scenarios are
// path prefixes, so every test can use it at once.
var sim = struct {
	url string
}{}

func TestMain(m *testing.M) {
	srv := httptest.NewServer(whmcssim.New(whmcssim.Options{SlowDelay: 3 * time.Second}))
	sim.url = srv.URL
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// configure runs Configure on a YAML config block.
func configure(t testing.TB, yamlCfg string) (*checker, error) {
	t.Helper()
	lines := map[int]int{}
	for i := 1; i <= strings.Count(yamlCfg, "\n")+1; i++ {
		lines[i] = i
	}
	c := &checker{}
	err := c.Configure(context.Background(), sdk.NewConfig("whmcs_auth", t.TempDir(), "pbxwatch.yml", []byte(yamlCfg), lines))
	return c, err
}

// simConfig is a config for scenario path (e.g. "/restricted/") plus extra
// YAML lines.
func simConfig(path string, extra ...string) string {
	return fmt.Sprintf("url: %s%s\nidentifier: %s\nsecret: %s\n%s", sim.url, path, whmcssim.DefaultIdentifier, whmcssim.DefaultSecret, strings.Join(extra, "\n"))
}

func runCheck(t *testing.T, yamlCfg string) *sdk.Result {
	t.Helper()
	c, err := configure(t, yamlCfg)
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Check(ctx)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	assertNoSecrets(t, res)
	return res
}

// assertNoSecrets fails when the secret or access key appears anywhere in
// the result, before any scrubbing by the SDK.
func assertNoSecrets(t *testing.T, res *sdk.Result) {
	t.Helper()
	all := fmt.Sprintf("%#v", *res)
	for _, d := range res.Diagnoses {
		all += fmt.Sprintf("%#v", d)
	}
	for _, m := range res.Metrics {
		all += fmt.Sprintf("%#v", m)
	}
	for _, s := range []string{whmcssim.DefaultSecret, whmcssim.DefaultAccessKey, whmcssim.DefaultIdentifier} {
		if strings.Contains(all, s) {
			t.Fatalf("result leaks %q: %s", s, all)
		}
	}
}

// diagnosis is the diagnosis of res with code; the test fails without one.
func diagnosis(t *testing.T, res *sdk.Result, code string) sdk.Diagnosis {
	t.Helper()
	d := sdktest.Diagnosis(res, code)
	if d == nil {
		t.Fatalf("no diagnosis %s in %s: %+v", code, res.Status, res.Diagnoses)
	}
	return *d
}

// metric is the value of res's sample name with labels; the test fails
// without one.
func metric(t *testing.T, res *sdk.Result, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := sdktest.Metric(res, name, labels)
	if !ok {
		t.Fatalf("no metric %s%v in %+v", name, labels, res.Metrics)
	}
	return v
}

func hasMetric(res *sdk.Result, name string) bool {
	_, ok := sdktest.Metric(res, name, nil)
	return ok
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not mention %q:\n%s", what, sub, s)
		}
	}
}

func steps(d sdk.Diagnosis) string { return strings.Join(d.Remediation, "\n") }
