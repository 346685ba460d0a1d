package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	promconfig "github.com/prometheus/common/config"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// AlertTestName is the alertname of the synthetic alert `pbxwatch alert
// test` sends: not PbxwatchCheckFailing, so no inhibition rule or
// dashboard mistakes it for a failing check.
const AlertTestName = "PbxwatchAlertTest"

// DefaultTestResolveAfter is how long the test alert fires before
// Alertmanager resolves it by its endsAt: longer than the shipped config's
// group_wait (30s), so the firing notification goes out before it ends.
const DefaultTestResolveAfter = 5 * time.Minute

// TestAlert describes the synthetic alert.
type TestAlert struct {
	// Check, when set, makes the alert carry that check's labels (its
	// alert.labels and severity), so it takes that check's route.
	Check *CheckInfo
	// Severity overrides the severity label (default: the check's
	// alert.severity, else warning).
	Severity string
	// ResolveAfter is endsAt - startsAt (default DefaultTestResolveAfter).
	ResolveAfter time.Duration
	// ExternalURL is the agent's --web.external-url, for generatorURL.
	ExternalURL string
	Hostname    string
	Now         time.Time
}

// TestResult is one Alertmanager's answer to the test alert.
type TestResult struct {
	URL  string
	Took time.Duration
	Err  error // nil: accepted (2xx)
}

// maxErrorBody bounds what an Alertmanager's error answer may add to the
// message.
const maxErrorBody = 512

// SendTestAlert posts one synthetic alert, clearly marked as a test and
// resolving by itself (its endsAt), to every Alertmanager of cfg at once,
// and reports each one's answer and how long it took, in cfg's order.
func SendTestAlert(ctx context.Context, cfg Config, t TestAlert) ([]TestResult, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Alertmanagers) == 0 {
		return nil, fmt.Errorf("no Alertmanager configured: add alerting.alertmanagers to the config (docs/alerting.md)")
	}
	body, err := json.Marshal([]postableAlert{testAlert(cfg, t)})
	if err != nil {
		return nil, err
	}
	results := make([]TestResult, len(cfg.Alertmanagers))
	var wg sync.WaitGroup
	for i, am := range cfg.Alertmanagers {
		wg.Go(func() {
			start := time.Now()
			err := postOnce(ctx, am, body)
			results[i] = TestResult{URL: am.URL, Took: time.Since(start), Err: err}
		})
	}
	wg.Wait()
	return results, nil
}

func testAlert(cfg Config, t TestAlert) postableAlert {
	if t.Now.IsZero() {
		t.Now = time.Now()
	}
	if t.ResolveAfter <= 0 {
		t.ResolveAfter = DefaultTestResolveAfter
	}
	info := CheckInfo{Name: "alert_test", Plugin: "pbxwatch"}
	if t.Check != nil {
		info = *t.Check
	}
	a := &alert{Kind: kindCheck, Check: info.Name, Plugin: info.Plugin, Code: sdk.CodeAlertTest, Severity: "warning"}
	labels := labelsFor(a, info, cfg, t.Hostname)
	labels["alertname"] = AlertTestName
	if t.Severity != "" {
		labels["severity"] = t.Severity
	}
	// Each test is a new alert, so a second test notifies too.
	labels["test_id"] = t.Now.UTC().Format("20060102T150405.000Z")
	ends := t.Now.Add(t.ResolveAfter)
	route := "the default route"
	if t.Check != nil {
		route = "the route of check " + info.Name + "'s alerts"
	}
	a.Annotations = map[string]string{
		"summary": fmt.Sprintf("TEST from pbxwatch on %s: the notification path works, nothing to fix", labels["instance"]),
		"description": fmt.Sprintf("This is a test notification, sent by `pbxwatch alert test` on %s at %s through %s. "+
			"It resolves by itself at %s.", labels["instance"], t.Now.UTC().Format(time.RFC3339), route, ends.UTC().Format(time.RFC3339)),
		"remediation": numbered([]string{
			"Nothing to fix: this is a test.",
			"If it reached the wrong people, or not all the right ones, check the route: amtool config routes test --config.file=alertmanager.yml " + routeLabels(labels),
		}),
	}
	p := postableAlert{Labels: labels, Annotations: sentAnnotations(a, info.Alert, cfg.RunbookBaseURL), StartsAt: t.Now, EndsAt: ends}
	if t.ExternalURL != "" {
		p.GeneratorURL = strings.TrimSuffix(t.ExternalURL, "/") + "/"
		if t.Check != nil {
			p.GeneratorURL += "checks/" + url.PathEscape(info.Name)
		}
	}
	return p
}

// routeLabels is labels as amtool's arguments, without test_id.
func routeLabels(labels map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(labels) {
		if k != "test_id" {
			parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
		}
	}
	return strings.Join(parts, " ")
}

// postOnce posts body to one Alertmanager, within its timeout.
func postOnce(ctx context.Context, am AlertmanagerConfig, body []byte) error {
	rt, err := promconfig.NewRoundTripperFromConfig(am.httpConfig(), "pbxwatch_alert_test")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, am.Timeout)
	defer cancel()
	endpoint := strings.TrimSuffix(am.URL, "/") + "/api/v2/alerts"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return fmt.Errorf("answered %s: %s", resp.Status, printable(b))
}

// printable makes an answer's excerpt one valid UTF-8 line.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || s == "" {
		return "(no body)"
	}
	return s
}
