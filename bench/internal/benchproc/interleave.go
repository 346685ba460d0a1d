package benchproc

import (
	"fmt"
	"os"
	"strings"
)

// Tool is one contender of a side-by-side benchmark.
type Tool struct {
	Name string
	Run  func() (Measure, error)
}

// Round is one run of every tool, back to back, with the load average
// read just before it.
type Round struct {
	Load     string
	Measures []Measure // in the order of the tools given, whatever order they ran in
}

// Interleave runs every tool once per round. On a shared machine the load
// changes from second to second; running the tools back to back, in
// alternating order, lets a change hit both sides of a ratio alike, so
// each round's ratio means something on its own.
//
// A first round, not reported, warms what a first run pays alone (the
// binaries' pages, the CPU's caches and clock), as hyperfine's --warmup does.
func Interleave(rounds int, tools []Tool) ([]Round, error) {
	for _, t := range tools {
		if _, err := t.Run(); err != nil {
			return nil, fmt.Errorf("%s (warm-up): %w", t.Name, err)
		}
	}
	var out []Round
	for r := 0; r < rounds; r++ {
		round := Round{Load: LoadAvg(), Measures: make([]Measure, len(tools))}
		for k := range tools {
			i := k
			if r%2 == 1 {
				i = len(tools) - 1 - k
			}
			m, err := tools[i].Run()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tools[i].Name, err)
			}
			m.Name = tools[i].Name
			round.Measures[i] = m
		}
		out = append(out, round)
	}
	return out, nil
}

// Column is every round's measure of tool i.
func Column(rounds []Round, i int) []Measure {
	var ms []Measure
	for _, r := range rounds {
		ms = append(ms, r.Measures[i])
	}
	return ms
}

// LoadAvg is the 1, 5 and 15 minute load averages, as /proc/loadavg has
// them.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// PrintRatios prints, per round, the two tools' MB/s and the ratio of
// their times (other/subject: above 1 means subject is faster), by the
// clock and by CPU time, then returns the smallest of each.
func PrintRatios(rounds []Round, subject, other int, size float64) (leastWall, leastCPU float64) {
	fmt.Printf("%-6s %-16s %22s %22s %8s %10s\n", "round", "load avg", rounds[0].Measures[subject].Name+" MB/s", rounds[0].Measures[other].Name+" MB/s", "ratio", "CPU ratio")
	for i, r := range rounds {
		s, o := r.Measures[subject], r.Measures[other]
		wall, cpu := o.Seconds/s.Seconds, o.CPUSeconds/s.CPUSeconds
		if i == 0 || wall < leastWall {
			leastWall = wall
		}
		if i == 0 || cpu < leastCPU {
			leastCPU = cpu
		}
		fmt.Printf("%-6d %-16s %22.0f %22.0f %7.2fx %9.2fx\n", i+1, r.Load, size/1e6/s.Seconds, size/1e6/o.Seconds, wall, cpu)
	}
	return leastWall, leastCPU
}
