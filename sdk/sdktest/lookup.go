package sdktest

import (
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// Diagnosis returns the first diagnosis of res with code, or nil.
func Diagnosis(res *sdk.Result, code string) *sdk.Diagnosis {
	for i := range res.Diagnoses {
		if res.Diagnoses[i].Code == code {
			return &res.Diagnoses[i]
		}
	}
	return nil
}

// Diagnoses returns every diagnosis of res with code, in order.
func Diagnoses(res *sdk.Result, code string) []sdk.Diagnosis {
	var out []sdk.Diagnosis
	for _, d := range res.Diagnoses {
		if d.Code == code {
			out = append(out, d)
		}
	}
	return out
}

// Codes returns the codes of res's diagnoses in order, comma-separated
// ("" for none): what a test compares and prints on failure.
func Codes(res *sdk.Result) string {
	codes := make([]string, len(res.Diagnoses))
	for i, d := range res.Diagnoses {
		codes[i] = d.Code
	}
	return strings.Join(codes, ",")
}

// Metric returns the value of the first sample of res named name whose
// labels include every one of labels (nil matches any), and whether there
// is one.
func Metric(res *sdk.Result, name string, labels map[string]string) (float64, bool) {
	for _, m := range res.Metrics {
		if m.Name == name && hasLabels(m.Labels, labels) {
			return m.Value, true
		}
	}
	return 0, false
}

// MetricSum is the sum of every sample of res named name whose labels
// include labels: a counter split by a label the test does not care about.
func MetricSum(res *sdk.Result, name string, labels map[string]string) float64 {
	var sum float64
	for _, m := range res.Metrics {
		if m.Name == name && hasLabels(m.Labels, labels) {
			sum += m.Value
		}
	}
	return sum
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
