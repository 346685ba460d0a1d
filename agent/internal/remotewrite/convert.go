package remotewrite

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/pbxwatch/pbxwatch/agent/internal/remotewrite/writev1"
)

// StaleNaN is Prometheus' staleness marker: a series that vanished from
// /metrics gets one sample of it, so a query stops showing it at once
// instead of for the lookback delta (a cleared diagnosis, a removed check).
var StaleNaN = math.Float64frombits(0x7ff0000000000002)

// Snapshotter remembers the series of the last snapshot, for staleness
// markers.
type Snapshotter struct {
	Gatherer prometheus.Gatherer
	External map[string]string
	prev     map[string][]*writev1.Label
}

// Snapshot is the package function Snapshot, plus a StaleNaN sample for
// every series the previous snapshot had and this one has not.
func (s *Snapshotter) Snapshot(ts time.Time) (body []byte, samples int, err error) {
	req, err := gather(s.Gatherer, s.External, ts)
	if err != nil {
		return nil, 0, err
	}
	seen := make(map[string][]*writev1.Label, len(req.Timeseries))
	for _, ts := range req.Timeseries {
		seen[seriesKey(ts.Labels)] = ts.Labels
	}
	for k, ls := range s.prev {
		if _, ok := seen[k]; !ok {
			req.Timeseries = append(req.Timeseries, &writev1.TimeSeries{
				Labels: ls, Samples: []*writev1.Sample{{Value: StaleNaN, Timestamp: ts.UnixMilli()}},
			})
		}
	}
	s.prev = seen
	return encode(req)
}

func seriesKey(ls []*writev1.Label) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
		b.WriteByte(0)
	}
	return b.String()
}

// Snapshot gathers g (the registry that serves /metrics) and encodes one
// sample of every series at ts as a Remote-Write 1.0 request body: the
// protobuf WriteRequest, snappy block-compressed. Histograms and summaries
// become the series a scrape of /metrics gives (_bucket with le, _sum,
// _count; quantile). external labels are added to each series that does
// not have the label already, as Prometheus' external_labels are.
func Snapshot(g prometheus.Gatherer, external map[string]string, ts time.Time) (body []byte, samples int, err error) {
	req, err := gather(g, external, ts)
	if err != nil {
		return nil, 0, err
	}
	return encode(req)
}

func gather(g prometheus.Gatherer, external map[string]string, ts time.Time) (*writev1.WriteRequest, error) {
	mfs, gerr := g.Gather()
	if gerr != nil && len(mfs) == 0 {
		return nil, fmt.Errorf("gather: %w", gerr)
	}
	// A gather error (one bad plugin metric) costs that metric, not the
	// push: as /metrics does with ContinueOnError.
	req := &writev1.WriteRequest{}
	ms := ts.UnixMilli()
	b := seriesBuilder{external: external, ms: ms}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			b.add(&req.Timeseries, mf, m)
		}
	}
	return req, nil
}

func encode(req *writev1.WriteRequest) ([]byte, int, error) {
	raw, err := proto.Marshal(req)
	if err != nil {
		return nil, 0, fmt.Errorf("encode write request: %w", err)
	}
	return snappy.Encode(nil, raw), len(req.Timeseries), nil
}

type seriesBuilder struct {
	external map[string]string
	ms       int64
}

func (b seriesBuilder) add(out *[]*writev1.TimeSeries, mf *dto.MetricFamily, m *dto.Metric) {
	name := mf.GetName()
	emit := func(suffix string, v float64, extra ...string) {
		*out = append(*out, &writev1.TimeSeries{
			Labels:  b.labels(name+suffix, m.GetLabel(), extra...),
			Samples: []*writev1.Sample{{Value: v, Timestamp: b.ms}},
		})
	}
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		emit("", m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		emit("", m.GetGauge().GetValue())
	case dto.MetricType_UNTYPED:
		emit("", m.GetUntyped().GetValue())
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			emit("", q.GetValue(), "quantile", formatFloat(q.GetQuantile()))
		}
		emit("_sum", s.GetSampleSum())
		emit("_count", float64(s.GetSampleCount()))
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		h := m.GetHistogram()
		sawInf := false
		for _, bk := range h.GetBucket() {
			if math.IsInf(bk.GetUpperBound(), +1) {
				sawInf = true
			}
			emit("_bucket", float64(bk.GetCumulativeCount()), "le", formatFloat(bk.GetUpperBound()))
		}
		if !sawInf {
			emit("_bucket", float64(h.GetSampleCount()), "le", "+Inf")
		}
		emit("_sum", h.GetSampleSum())
		emit("_count", float64(h.GetSampleCount()))
	}
}

// labels builds a series' label set, sorted by name as the spec asks.
func (b seriesBuilder) labels(name string, pairs []*dto.LabelPair, extra ...string) []*writev1.Label {
	ls := make([]*writev1.Label, 0, len(pairs)+len(extra)/2+len(b.external)+1)
	ls = append(ls, &writev1.Label{Name: "__name__", Value: name})
	own := make(map[string]bool, len(pairs)+len(extra)/2)
	for _, p := range pairs {
		ls = append(ls, &writev1.Label{Name: p.GetName(), Value: p.GetValue()})
		own[p.GetName()] = true
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ls = append(ls, &writev1.Label{Name: extra[i], Value: extra[i+1]})
		own[extra[i]] = true
	}
	for k, v := range b.external {
		if !own[k] {
			ls = append(ls, &writev1.Label{Name: k, Value: v})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// formatFloat writes le and quantile values as the text exposition does.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
