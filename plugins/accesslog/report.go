package accesslog

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/internal/tailfile"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// maxClientDiagnoses bounds the diagnoses of one kind: the clients with
// the most failures first, the count of the rest in the last one.
const maxClientDiagnoses = 10

// report fills the result: metrics always, diagnoses for what needs a
// person.
func (c *checker) report(ctx context.Context, res *sdk.Result, r *run, pr tailfile.Result, now time.Time) {
	path := c.cfg.Path
	c.addMetrics(res, pr)
	switch {
	case pr.Denied != nil:
		res.Summary = "cannot read " + path + ": permission denied"
		res.Diagnose(c.log.PermissionDenied(pr.Denied, "", permissionSteps(path, tailfile.ServiceUser()), true))
		return
	case pr.Missing:
		res.Summary = path + " does not exist"
		res.Diagnose(c.log.FileMissing(missingSteps))
	}
	cutoff := now.Add(-c.cfg.Window).Unix()
	failing := c.diagnoseFailing(ctx, res, cutoff)
	c.diagnoseTokenBursts(ctx, res, cutoff)
	c.diagnoseServerErrors(res, cutoff)
	if r.unparsed*2 >= r.lines && (r.unparsed >= 3 || r.unparsed > 0 && len(c.st.Totals.Requests) == 0) {
		// Mostly unparsed: a wrong format:, not a stray line (a stray
		// line on a quiet server would otherwise warn on its own; with
		// nothing ever parsed, one line is enough).
		res.Diagnose(sdk.Diagnosis{Code: "accesslog.unparsed_lines", Severity: sdk.SeverityWarning,
			Message: fmt.Sprintf("%d of the %d lines read from %s this run are not %s-format access-log lines (first problem: %s).", r.unparsed, r.lines, path, c.cfg.Format, r.reason),
			Remediation: []string{
				"Compare the file's LogFormat with the config: Apache's and nginx's default is combined; Sangoma Linux's ssl_access_log (TransferLog) is common; Debian's other_vhosts_access.log is vhost_combined.",
				"Set format: accordingly; a custom LogFormat must start like common (%h %l %u %t \"%r\" %>s %b).",
			},
			Details: map[string]string{"file": path, "unparsed": strconv.FormatUint(r.unparsed, 10), "lines": strconv.FormatUint(r.lines, 10), "reason": r.reason}})
	}
	c.log.PreviousFileLost(res, pr, "Keep at least one uncompressed rotated file (delaycompress, as Debian's and Sangoma's apache2/httpd logrotate files do), so the rest of a rotated log can be read.")
	c.log.Behind(res, pr, pr.Size-c.log.Offset(c.st, pr))
	growing := c.log.Unterminated(res, pr)
	sort.SliceStable(res.Diagnoses, func(i, j int) bool {
		return res.Diagnoses[i].Severity == sdk.SeverityCritical && res.Diagnoses[j].Severity != sdk.SeverityCritical
	})
	if res.Summary == "" {
		res.Summary = fmt.Sprintf("%d new requests in %s, %d to FreePBX's API", r.lines-r.unparsed, path, r.api)
		if failing > 0 {
			res.Summary += fmt.Sprintf("; %d client(s) failing", failing)
		}
		if growing != "" {
			res.Summary += "; " + growing
		}
	}
}

func when(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

// failingClient is one client whose API calls failed after a success.
type failingClient struct {
	addr        string
	first, last int64
	lastOK      int64
	count       uint64
	parts       []string // "gql 403×3"
	eps         map[string]bool
	pairs       map[string]bool // "gql 403"
	clientID    string
}

// diagnoseFailing adds accesslog.api_failing for every client whose calls
// to an endpoint failed (401, 403, 5xx, with no success there since) after
// the client had made a successful API call, and that has failed within
// the window. It returns how many there are.
func (c *checker) diagnoseFailing(ctx context.Context, res *sdk.Result, cutoff int64) int {
	var list []*failingClient
	for addr, ct := range c.st.Clients {
		var fc *failingClient
		for ep := endpoint(0); ep < epOther; ep++ {
			s := ct.ByEndpoint[ep.String()]
			if s == nil || s.Count == 0 || ct.FirstOK == 0 || ct.FirstOK > s.First || s.Last < cutoff {
				continue
			}
			if fc == nil {
				fc = &failingClient{addr: addr, first: s.First, eps: map[string]bool{}, pairs: map[string]bool{}}
			}
			fc.first, fc.last = min(fc.first, s.First), max(fc.last, s.Last)
			for _, o := range ct.ByEndpoint {
				if o.LastOK <= s.First { // the last success before the failures
					fc.lastOK = max(fc.lastOK, o.LastOK)
				}
			}
			fc.count += s.Count
			fc.eps[ep.String()] = true
			for _, st := range sortedKeys(s.ByStatus) {
				fc.parts = append(fc.parts, fmt.Sprintf("%s %s×%d", ep, st, s.ByStatus[st]))
				fc.pairs[ep.String()+" "+st] = true
			}
			fc.clientID = ct.clientID()
		}
		if fc != nil {
			if fc.lastOK == 0 { // later successes elsewhere overwrote the earlier ones
				fc.lastOK = ct.FirstOK
			}
			list = append(list, fc)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].count != list[j].count {
			return list[i].count > list[j].count
		}
		return list[i].addr < list[j].addr
	})
	for i, fc := range list {
		if i == maxClientDiagnoses {
			break
		}
		d := sdk.Diagnosis{Code: "accesslog.api_failing", Severity: sdk.SeverityCritical,
			Message: fmt.Sprintf("FreePBX API calls from %s began failing at %s after succeeding (last success %s): %s; last failure %s.",
				fc.addr, when(fc.first), when(fc.lastOK), strings.Join(fc.parts, ", "), when(fc.last)),
			Remediation: failingRemedies(fc),
			Details: map[string]string{"client": fc.addr, "endpoints": strings.Join(sortedKeys(fc.eps), ","),
				"statuses": strings.Join(fc.parts, ", "), "count": strconv.FormatUint(fc.count, 10),
				"first": when(fc.first), "last": when(fc.last), "last_success": when(fc.lastOK), "file": c.cfg.Path}}
		c.addApplication(ctx, d.Details, fc.clientID)
		if i == maxClientDiagnoses-1 && len(list) > maxClientDiagnoses {
			d.Details["more_clients"] = strconv.Itoa(len(list) - maxClientDiagnoses)
		}
		res.Diagnose(d)
	}
	return len(list)
}

func failingRemedies(fc *failingClient) []string {
	has := func(ep, status string) bool { return fc.pairs[ep+" "+status] }
	any5xx := func(ep string) bool {
		for p := range fc.pairs {
			if strings.HasPrefix(p, ep+" 5") {
				return true
			}
		}
		return false
	}
	var out []string
	if has("token", "401") {
		out = append(out, "401 on token is invalid_client: the client secret the integration on "+fc.addr+" sends no longer matches (regenerated, or the application deleted or its grant type changed). Compare its client_id and secret with Admin > API > Applications; the freepbx check names the cause.")
	}
	if has("gql", "401") || has("rest", "401") {
		out = append(out, "401 on gql or rest is a rejected bearer token (access_denied): expired (the integration must fetch a new token before exp), revoked (the application regenerated or deleted), or, on REST only, a scope the application lacks (REST answers 401 unauthorized). The freepbx check tells which.")
	}
	if has("token", "403") || has("gql", "403") || has("rest", "403") {
		out = append(out, "403 on token, gql or rest is not the API module's answer (it accepts these commands from anyone). Either FreePBX's routing is broken: ajax.php declines (ajaxRequest declined) because the /admin/api rewrite did not run (MultiViews, a proxy dropping the query string; the freepbx check diagnoses freepbx.api_routing_broken). Or something in front refuses the client: an Apache Require or <Location> rule (AH01630 \"client denied by server configuration\" in Apache's error log), mod_security, a proxy or WAF.")
	}
	if has("ajax", "403") {
		out = append(out, "403 on admin/ajax.php or another /admin/api/ path is ajaxRequest declined: a wrong path (e.g. /admin/api/api/graphql instead of /gql, or /admin/api/api/resource) or, for GUI commands, a missing Referer; fix the integration's URL.")
	}
	if has("ajax", "401") || has("ucp", "401") {
		out = append(out, "401 on ajax.php is Not Authenticated: the GUI or UCP session expired or was never made; log in again.")
	}
	if any5xx("gql") {
		out = append(out, "5xx on gql: on FreePBX 17 an expired or invalid bearer token ends in a 500 (the OAuth error escapes to the framework's error handler) instead of a 401: if the integration reuses an old token, renew it. Otherwise FreePBX failed: read Apache's error log and /var/log/asterisk/gql_api_error.log at the times above.")
	}
	for _, ep := range []string{"token", "rest", "ajax", "ucp"} {
		if any5xx(ep) {
			out = append(out, "5xx: FreePBX failed while answering: read Apache's error log (/var/log/apache2/error.log or /var/log/httpd/error_log) at the times above; a PHP fatal error or exception names the module.")
			break
		}
	}
	return append(out, "If the address is not one of your integrations, block it in FreePBX's Firewall.")
}

// diagnoseTokenBursts adds accesslog.token_failures for every address
// whose failed token requests reached the threshold within the window.
func (c *checker) diagnoseTokenBursts(ctx context.Context, res *sdk.Result, cutoff int64) {
	type hit struct {
		addr string
		b    *burst
		id   string
	}
	var hits []hit
	for addr, ct := range c.st.Clients {
		if s := ct.ByEndpoint["token"]; s != nil && s.Burst.Hit && s.Burst.Last >= cutoff {
			hits = append(hits, hit{addr, &s.Burst, ct.clientID()})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].b.Count != hits[j].b.Count {
			return hits[i].b.Count > hits[j].b.Count
		}
		return hits[i].addr < hits[j].addr
	})
	for i, h := range hits {
		if i == maxClientDiagnoses {
			break
		}
		var parts []string
		for _, st := range sortedKeys(h.b.ByStatus) {
			parts = append(parts, fmt.Sprintf("%s×%d", st, h.b.ByStatus[st]))
		}
		d := sdk.Diagnosis{Code: "accesslog.token_failures", Severity: sdk.SeverityWarning,
			Message: fmt.Sprintf("%d failed token requests (%s) from %s between %s and %s: at least %d within %v.",
				h.b.Count, strings.Join(parts, ", "), h.addr, when(h.b.First), when(h.b.Last), c.cfg.TokenFailureThreshold, c.cfg.TokenFailureWindow),
			Remediation: []string{
				"If " + h.addr + " runs one of your integrations, it is retrying with a wrong client secret (401 invalid_client) or asking for a scope or grant the application does not have (400): fix its credentials and stop the retry loop.",
				"If it is not yours, someone is guessing: block the address in FreePBX's Firewall (or fail2ban on the Apache access log).",
			},
			Details: map[string]string{"client": h.addr, "endpoint": "token", "count": strconv.FormatUint(h.b.Count, 10),
				"statuses": strings.Join(parts, ", "), "first": when(h.b.First), "last": when(h.b.Last),
				"threshold": strconv.Itoa(c.cfg.TokenFailureThreshold), "window": c.cfg.TokenFailureWindow.String(), "file": c.cfg.Path}}
		c.addApplication(ctx, d.Details, h.id)
		if i == maxClientDiagnoses-1 && len(hits) > maxClientDiagnoses {
			d.Details["more_clients"] = strconv.Itoa(len(hits) - maxClientDiagnoses)
		}
		res.Diagnose(d)
	}
}

// diagnoseServerErrors adds accesslog.server_errors for a GraphQL or REST
// endpoint that answered 5xx within the window.
func (c *checker) diagnoseServerErrors(res *sdk.Result, cutoff int64) {
	for _, ep := range []endpoint{epGQL, epREST} {
		e := c.st.Errors5xx[ep.String()]
		if e == nil || e.Count == 0 || e.Last < cutoff {
			continue
		}
		var clients []string
		for _, cl := range sortedKeys(e.Clients) {
			clients = append(clients, fmt.Sprintf("%s×%d", cl, e.Clients[cl]))
		}
		res.Diagnose(sdk.Diagnosis{Code: "accesslog.server_errors", Severity: sdk.SeverityCritical,
			Message: fmt.Sprintf("FreePBX's %s API answered %d requests with 5xx between %s and %s (clients: %s).",
				map[endpoint]string{epGQL: "GraphQL", epREST: "REST"}[ep], e.Count, when(e.First), when(e.Last), strings.Join(clients, ", ")),
			Remediation: []string{
				"Read Apache's error log (/var/log/apache2/error.log on FreePBX 17, /var/log/httpd/error_log on FreePBX 16) and /var/log/asterisk/gql_api_error.log at those times: a PHP fatal error or exception names the module.",
				"On FreePBX 17 GraphQL answers an expired or invalid bearer token with 500 (the OAuth error escapes to the framework's error handler): if the clients above reuse old tokens, that is the cause; the freepbx check shows the token's answer.",
				"Check MariaDB and disk space (`systemctl status mariadb`, `df -h`), then `fwconsole ma list` for a module left half-upgraded.",
			},
			Details: map[string]string{"endpoint": ep.String(), "count": strconv.FormatUint(e.Count, 10), "first": when(e.First),
				"last": when(e.Last), "clients": strings.Join(clients, ", "), "file": c.cfg.Path}})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *checker) addMetrics(res *sdk.Result, pr tailfile.Result) {
	t := &c.st.Totals
	for _, k := range sortedKeys(t.Requests) {
		ep, status, _ := strings.Cut(k, " ")
		res.AddCounter("accesslog_requests_total", "Requests in the access log, by FreePBX endpoint (token, gql, rest, ajax, ucp, other) and status (the code on API endpoints, the class on other).",
			float64(t.Requests[k]), map[string]string{"endpoint": ep, "status": status})
	}
	for _, k := range sortedKeys(t.Failed) {
		ep, status, client, ok := splitFailKey(k)
		if !ok {
			continue
		}
		res.AddCounter("accesslog_failed_requests_total", "API requests answered 4xx or 5xx, by endpoint, status and client address (max_clients addresses, the rest as other).",
			float64(t.Failed[k]), map[string]string{"endpoint": ep, "status": status, "client": client})
	}
	res.AddCounter("accesslog_unparsed_lines_total", "Lines not in the configured format (or longer than max_line_bytes).", float64(t.Unparsed), nil)
	res.AddCounter("accesslog_read_bytes_total", "Bytes of complete lines read.", float64(t.ReadBytes), nil)
	res.AddCounter("accesslog_rotations_total", "Rotated files read to their end and left behind.", float64(t.Rotations), nil)
	res.AddCounter("accesslog_truncations_total", "Times the log was found truncated (copytruncate).", float64(t.Truncations), nil)
	if !pr.Missing {
		off := c.log.Offset(c.st, pr)
		res.AddGauge("accesslog_file_size_bytes", "Size of the access log.", float64(pr.Size), nil)
		res.AddGauge("accesslog_offset_bytes", "Offset read up to; size minus offset is the lag.", float64(off), nil)
	}
}

// missingSteps say where FreePBX's web server writes its access log.
var missingSteps = []string{
	"FreePBX 17 (Debian) logs to /var/log/apache2/access.log; FreePBX 16 (Sangoma Linux 7) to /var/log/httpd/access_log, and HTTPS requests to /var/log/httpd/ssl_access_log (format: common): set path: to the file your API clients' requests go to.",
	"`apachectl -S` (or `httpd -S`) lists the virtual hosts; each one's CustomLog or TransferLog names its file.",
}

// permissionSteps explain, for the layout of this host, how the service
// user (name) gets to read the web server's logs without opening them to
// all.
func permissionSteps(path, name string) []string {
	debian := []string{
		"Debian (FreePBX 17): Apache's logs are group adm (0640, directory 0750). Add the service user to it: `usermod -aG adm " + name + "`, then `systemctl restart pbxwatch` (groups are read at process start). The pbxwatch package does this.",
	}
	sangoma := []string{
		"Sangoma Linux 7 (FreePBX 16): /var/log/httpd is root-only (0700), so no group helps. Grant the service user read access by ACL instead of opening the directory: `setfacl -m u:" + name + ":rx /var/log/httpd`, `setfacl -m u:" + name + ":r /var/log/httpd/*_log` and, so files created at rotation inherit it, `setfacl -d -m u:" + name + ":r /var/log/httpd`. The package's script does all three: `/usr/share/pbxwatch/accesslog-acl.sh " + name + " /var/log/httpd` (scripts/accesslog-acl.sh in pbxwatch's source), and --remove undoes them.",
	}
	var steps []string
	switch {
	case strings.HasPrefix(path, "/var/log/httpd/"):
		steps = append(sangoma, debian...)
	default:
		steps = append(debian, sangoma...)
	}
	return append(steps, "Do not chmod the log directory world-readable: access logs hold client addresses and, in query strings, sometimes credentials.")
}
