package remotewrite

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// benchSeries is about what the demo's checks put on /metrics (docs/fleet.md
// measures it with scripts/bench-remote-write.sh).
const benchSeries = 240

func benchRegistry(n int) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bench_value", Help: "h"}, []string{"check", "code"})
	reg.MustRegister(g)
	for i := range n {
		g.WithLabelValues(fmt.Sprintf("check_%d", i%40), fmt.Sprintf("plugin.code_%d", i)).Set(float64(i))
	}
	return reg
}

// BenchmarkPushCycle is one interval of one receiver: gather /metrics,
// encode, append to the disk queue (fsync), read it back and send it to a
// receiver that reads the body. CPU per op × intervals per day is the
// push's CPU per host per day.
func BenchmarkPushCycle(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reg := benchRegistry(benchSeries)
	q, err := OpenQueue(b.TempDir(), 64<<20, time.Hour, func(string, int) {})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	cl, err := newClient(Config{URL: srv.URL, RemoteTimeout: 10 * time.Second}, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	s := &Snapshotter{Gatherer: reg, External: map[string]string{"instance": "pbx1", "site": "paris"}}
	var wire int
	start := time.Now()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		body, n, err := s.Snapshot(start.Add(time.Duration(i) * time.Second))
		if err != nil {
			b.Fatal(err)
		}
		if err := q.Append(start.Add(time.Duration(i)*time.Second), n, body); err != nil {
			b.Fatal(err)
		}
		rec := q.Head()
		if res := cl.send(b.Context(), rec.Payload, rec.Samples); res.outcome != stored {
			b.Fatal(res.diagnosis)
		}
		q.Done(rec)
		wire += len(body)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(wire)/float64(b.N), "wire-bytes/op")
	b.ReportMetric(float64(benchSeries)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkReplay is a backlog being sent after an outage: records already
// on disk, read and sent one request each. samples/s is how fast one agent
// catches up; heap-bytes is the heap in use while replaying (the queue is
// read one record at a time, never held in memory).
func BenchmarkReplay(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reg := benchRegistry(benchSeries)
	cl, err := newClient(Config{URL: srv.URL, RemoteTimeout: 10 * time.Second}, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	q, err := OpenQueue(b.TempDir(), 1<<30, 24*time.Hour, func(string, int) {})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	start := time.Now().Add(-time.Hour)
	body, n, err := Snapshot(reg, map[string]string{"instance": "pbx1"}, start)
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if err := q.Append(start.Add(time.Duration(i)*time.Millisecond), n, body); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var before, peak runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for rec := q.Head(); rec != nil; rec = q.Head() {
		if res := cl.send(b.Context(), rec.Payload, rec.Samples); res.outcome != stored {
			b.Fatal(res.diagnosis)
		}
		q.Done(rec)
	}
	b.StopTimer()
	runtime.ReadMemStats(&peak)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(peak.HeapInuse), "heap-bytes")
}

// cpuTime is the process' user and system CPU time in ns (the test
// receiver runs in the same process: its share is included).
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
