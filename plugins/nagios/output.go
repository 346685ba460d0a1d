package nagios

import "strings"

// Output is a Nagios plugin's stdout split the way the plugin guidelines
// define it:
//
//	TEXT OUTPUT | OPTIONAL PERFDATA
//	LONG TEXT LINE 1
//	LONG TEXT LINE 2 | PERFDATA
//	MORE PERFDATA
//
// The first line's text is the summary; the lines after it are long output
// up to the first line holding a '|'; perfdata follows the '|' on the first
// line, and the '|' in the long output, and fills every line after that.
type Output struct {
	Summary  string
	Long     string
	Perfdata string
}

// SplitOutput splits a plugin's stdout.
func SplitOutput(stdout string) Output {
	stdout = strings.ReplaceAll(stdout, "\r\n", "\n")
	first, rest, _ := strings.Cut(stdout, "\n")
	var o Output
	var perf []string
	summary, p, hasPerf := strings.Cut(first, "|")
	o.Summary = strings.TrimSpace(summary)
	if hasPerf {
		perf = append(perf, p)
	}
	var long []string
	lines := strings.Split(strings.TrimRight(rest, "\n"), "\n")
	for i, line := range lines {
		text, p, found := strings.Cut(line, "|")
		if !found {
			long = append(long, line)
			continue
		}
		long = append(long, text)
		perf = append(perf, p)
		perf = append(perf, lines[i+1:]...)
		break
	}
	o.Long = strings.Trim(strings.Join(long, "\n"), "\n ")
	o.Perfdata = strings.TrimSpace(strings.Join(perf, " "))
	return o
}
