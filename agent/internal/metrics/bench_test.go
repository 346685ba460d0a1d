package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// BenchmarkScrape1000Checks serves /metrics for 1,000 checks, each with the
// agent's own series and five plugin metrics.
func BenchmarkScrape1000Checks(b *testing.B) {
	m := New(slog.New(slog.DiscardHandler))
	for i := 0; i < 1000; i++ {
		check := fmt.Sprintf("check_%04d", i)
		m.InitCheck(check)
		res := &sdk.Result{Status: sdk.StatusOK}
		for j := 0; j < 5; j++ {
			res.AddGauge(fmt.Sprintf("plugin_metric_%d", j), "A plugin metric.", float64(j), map[string]string{"target": "x"})
		}
		m.ObserveRun(check, "plugin", res, time.Now(), 3*time.Millisecond)
	}
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}
