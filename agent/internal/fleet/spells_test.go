package fleet

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// Timeline points are the worst status in the smear (5m) before them, one
// a minute: spells start at their first point and end a smear less a step
// before their last, except the one still going on at the window's end.
func TestSpellsFromTimelinePoints(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(min int, v float64) model.SamplePair {
		return model.SamplePair{Timestamp: model.TimeFromUnixNano(t0.Add(time.Duration(min) * time.Minute).UnixNano()), Value: model.SampleValue(v)}
	}
	now := t0.Add(60 * time.Minute)
	// CRITICAL from 10:05 (points to 10:14: really until 10:10), then
	// WARNING seen from 10:15 (really from 10:10, hidden by the smear) to
	// 10:20 (really 10:16); then a blip at 10:30; then WARNING from 10:50
	// to now.
	var pts []model.SamplePair
	for m := 5; m <= 14; m++ {
		pts = append(pts, at(m, 2))
	}
	for m := 15; m <= 20; m++ {
		pts = append(pts, at(m, 1))
	}
	for m := 30; m <= 34; m++ {
		pts = append(pts, at(m, 2))
	}
	for m := 50; m <= 60; m++ {
		pts = append(pts, at(m, 1))
	}
	got := toSpells(pts, now)
	want := []struct{ from, to int }{{5, 10}, {11, 16}, {30, 30}, {50, 60}}
	if len(got) != len(want) {
		t.Fatalf("spells %+v", got)
	}
	for i, w := range want {
		if got[i].From != t0.Add(time.Duration(w.from)*time.Minute) || got[i].To != t0.Add(time.Duration(w.to)*time.Minute) {
			t.Errorf("spell %d: %s..%s %s, want 10:%02d..10:%02d", i, got[i].From.Format("15:04"), got[i].To.Format("15:04"), got[i].Status, w.from, w.to)
		}
	}
	start := now.Add(-DefaultWindow)
	if s, before := since(got, statusWarning, start, nil); before || s == nil || !s.Equal(t0.Add(50*time.Minute)) {
		t.Errorf("WARNING since %v (before window %v)", s, before)
	}
	if s, _ := since(got[:3], statusOK, start, nil); s == nil || !s.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("OK since %v, want the blip's end", s)
	}
	if s, before := since(nil, statusOK, start, nil); s != nil || !before {
		t.Errorf("OK all the window: since %v before %v", s, before)
	}
}

func TestAgoReadsLikePeopleSayIt(t *testing.T) {
	for d, want := range map[time.Duration]string{
		40 * time.Second: "40s", 12*time.Minute + 10*time.Second: "12m", 200 * time.Minute: "3h20m", 24 * time.Hour: "24h",
	} {
		if got := Ago(d); got != want {
			t.Errorf("Ago(%s) = %s, want %s", d, got, want)
		}
	}
}
