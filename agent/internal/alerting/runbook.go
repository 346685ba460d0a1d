package alerting

import (
	"net/url"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// DefaultRunbookBaseURL is the page that documents every diagnosis code of
// the plugins shipped with pbxwatch, one anchor per code (docs/diagnoses.md,
// "Every code"). alerting.runbook_base_url points alerts at a copy of it
// elsewhere (an intranet wiki, a mirror); the anchors stay the same.
const DefaultRunbookBaseURL = "https://github.com/pbxwatch/pbxwatch/blob/main/docs/diagnoses.md"

// Anchors of docs/diagnoses.md that are not a code.
const (
	// AnchorLogEvents explains PbxwatchLogEvent alerts: their pattern names
	// are the user's, so they share one anchor.
	AnchorLogEvents = "log-events"
	// AnchorOtherPlugins is for codes of plugins pbxwatch does not ship:
	// their authors document them; a check's alert.annotations.runbook_url
	// points at that documentation.
	AnchorOtherPlugins = "other-plugins"
)

// documentedPrefixes are the code prefixes of the plugins (and the agent)
// shipped with pbxwatch; docs/diagnoses.md has an anchor for each of their
// codes (TestEveryEmittedCodeHasARunbookAnchor).
var documentedPrefixes = []string{sdk.AgentCodePrefix, "whmcs.", "freepbx.", "logtail.", "accesslog.", "nagios."}

// RunbookAnchor is the anchor in docs/diagnoses.md that explains an
// alert: its code for check alerts of the shipped plugins.
func RunbookAnchor(event bool, code string) string {
	if event {
		return AnchorLogEvents
	}
	for _, p := range documentedPrefixes {
		if strings.HasPrefix(code, p) {
			return code
		}
	}
	return AnchorOtherPlugins
}

// runbookURL joins the base URL and an anchor, replacing any fragment the
// base carried.
func runbookURL(base, anchor string) string {
	base, _, _ = strings.Cut(base, "#")
	return base + "#" + url.PathEscape(anchor)
}

// sentAnnotations are the annotations an alert goes out with: its own,
// runbook_url defaulting to the code's anchor under runbook_base_url, and
// the check's alert.annotations over all of them.
func sentAnnotations(a *alert, info CheckAlert, base string) map[string]string {
	out := make(map[string]string, len(a.Annotations)+len(info.Annotations)+1)
	for k, v := range a.Annotations {
		out[k] = v
	}
	if out["runbook_url"] == "" {
		if base == "" {
			base = DefaultRunbookBaseURL
		}
		out["runbook_url"] = runbookURL(base, RunbookAnchor(a.Kind == kindEvent, a.Code))
	}
	for k, v := range info.Annotations {
		out[k] = v
	}
	return out
}
