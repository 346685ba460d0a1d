package sdktest

import (
	"testing"

	"github.com/pbxwatch/pbxwatch/sdk"
)

func TestLookups(t *testing.T) {
	res := &sdk.Result{}
	res.Diagnose(sdk.Diagnosis{Code: "x.down", Severity: sdk.SeverityCritical, Message: "first"})
	res.Diagnose(sdk.Diagnosis{Code: "x.slow", Severity: sdk.SeverityWarning})
	res.Diagnose(sdk.Diagnosis{Code: "x.down", Severity: sdk.SeverityCritical, Message: "second"})
	res.AddCounter("x_requests_total", "", 3, map[string]string{"code": "200", "path": "/a"})
	res.AddCounter("x_requests_total", "", 4, map[string]string{"code": "500", "path": "/a"})
	res.AddCounter("x_requests_total", "", 5, map[string]string{"code": "200", "path": "/b"})
	if d := Diagnosis(res, "x.down"); d == nil || d.Message != "first" {
		t.Fatalf("Diagnosis = %+v", d)
	}
	if Diagnosis(res, "x.gone") != nil || len(Diagnoses(res, "x.down")) != 2 || Codes(res) != "x.down,x.slow,x.down" || Codes(&sdk.Result{}) != "" {
		t.Fatal("Diagnoses or Codes")
	}
	if v, ok := Metric(res, "x_requests_total", map[string]string{"code": "500"}); !ok || v != 4 {
		t.Fatalf("Metric = %v %v", v, ok)
	}
	if _, ok := Metric(res, "x_requests_total", map[string]string{"code": "404"}); ok {
		t.Fatal("Metric found a sample that is not there")
	}
	if s := MetricSum(res, "x_requests_total", map[string]string{"code": "200"}); s != 8 {
		t.Fatalf("MetricSum = %v", s)
	}
}
