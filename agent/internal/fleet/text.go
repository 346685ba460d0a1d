package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the hosts as a JSON list, the form scripts read.
func WriteJSON(w io.Writer, v *View) error {
	hosts := v.Hosts
	if hosts == nil {
		hosts = []Host{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(hosts)
}

// WriteText writes the view for people: a summary, the shared causes,
// then every host and check, worst first.
func WriteText(w io.Writer, v *View) error {
	silent, failing := 0, 0
	for _, h := range v.Hosts {
		switch {
		case h.Silent:
			silent++
		case h.Failing() > 0:
			failing++
		}
	}
	fmt.Fprintf(w, "%d hosts: %d silent, %d failing, %d OK (as of %s; hosts that reported in the last %s)\n",
		len(v.Hosts), silent, failing, len(v.Hosts)-silent-failing, v.At.Format("2006-01-02 15:04:05 UTC"), Ago(time.Duration(v.Window)))
	if len(v.Causes) > 0 {
		fmt.Fprintln(w, "\nShared causes (one fix, many hosts):")
		for _, c := range v.Causes {
			fmt.Fprintf(w, "  %s %s: one fix at %s, %d hosts: %s\n", c.Status, c.Code, c.Where(), len(c.Hosts), strings.Join(c.Hosts, ", "))
		}
	}
	if len(v.Hosts) == 0 {
		_, err := fmt.Fprintln(w, "\nNo host has reported pbxwatch_check_status in that time.")
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tCHECK\tSTATUS\tCAUSE\tSINCE")
	for _, h := range v.Hosts {
		if h.Silent {
			fmt.Fprintf(tw, "%s\t\tSILENT\t%s\t%s\n", h.Instance, "no report for "+silentFor(h, v.At), seen(h))
		}
		for _, c := range h.Checks {
			cause := c.Code
			if n := v.SharedWith(c.Code); n > 0 && !h.Silent {
				cause += fmt.Sprintf(" (shared by %d hosts)", n)
			}
			if cause == "" {
				cause = "-"
			}
			status := c.Status
			if h.Silent {
				status += " (last known)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Instance, c.Check, status, cause, sinceText(c, v))
		}
	}
	return tw.Flush()
}

func seen(h Host) string {
	if h.LastSeen == nil {
		return ""
	}
	return "last seen " + h.LastSeen.Format("2006-01-02 15:04:05 UTC")
}

func silentFor(h Host, now time.Time) string {
	if h.LastSeen == nil {
		return "a while"
	}
	return Ago(now.Sub(*h.LastSeen))
}

func sinceText(c Check, v *View) string {
	switch {
	case c.SinceBeforeWindow:
		return "over " + Ago(time.Duration(v.Window))
	case c.Since == nil:
		return "just now"
	default:
		return c.Since.Format("2006-01-02 15:04 UTC") + " (" + SinceAgo(v.At.Sub(*c.Since)) + ")"
	}
}

// Ago writes a duration roughly, the way people say it: 40s, 12m, 3h20m,
// 24h.
func Ago(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	default:
		return fmt.Sprintf("%dh%dm", h, m)
	}
}

// SinceAgo is Ago for a check's since, which the view knows to a minute
// (its timeline's step).
func SinceAgo(d time.Duration) string {
	if d < step {
		return "under a minute"
	}
	return Ago(d)
}
