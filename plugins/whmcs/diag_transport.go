package whmcs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/pbxwatch/pbxwatch/internal/frontlayer"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// Diagnoses of the transport (no HTTP answer at all) and of server errors.

// isTimeout reports whether err is a deadline: the run's, the request's
// or the connection's.
func isTimeout(err error) bool {
	var nerr net.Error
	return err != nil && (errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()))
}

func (r *run) transportDiagnosis(rep *reply) *sdk.Diagnosis {
	r.transport = true
	if d := r.tlsError(rep); d != nil {
		return d
	}
	host := r.cfg.endpoint.Host
	d := r.details(rep, "")
	d["error"] = rep.err.Error()
	if isTimeout(rep.err) {
		d["waited_seconds"] = fmt.Sprintf("%.1f", rep.elapsed.Seconds())
		return &sdk.Diagnosis{
			Code: "whmcs.timeout", Severity: sdk.SeverityCritical,
			Message: fmt.Sprintf("WHMCS at %s did not answer within %.1fs.", host, rep.elapsed.Seconds()),
			Remediation: []string{
				"Check the WHMCS server's load and PHP workers (PHP-FPM pool exhausted, slow database, a hanging cron run): `curl -s -o /dev/null -w '%{time_total}\\n' " + rep.url + "` shows the time it takes.",
				"A firewall that drops packets instead of refusing them also looks like this: check that this host's address is not silently dropped (fail2ban with DROP, CSF).",
				"If WHMCS is just slow, raise request_timeout and the check's timeout.",
			},
			Details: d,
		}
	}
	var dnsErr *net.DNSError
	steps := []string{}
	msg := fmt.Sprintf("Cannot connect to WHMCS at %s: %s.", host, rootCause(rep.err))
	switch {
	case errors.As(rep.err, &dnsErr):
		msg = fmt.Sprintf("Cannot resolve the WHMCS host name %s: %s.", r.cfg.endpoint.Hostname(), dnsErr.Err)
		steps = append(steps, "Check the host name in url: for typos, and that this host's resolver answers for it (`getent hosts "+r.cfg.endpoint.Hostname()+"`).")
	case notHTTP(rep.err):
		msg = fmt.Sprintf("WHMCS at %s accepted the connection but did not answer in HTTP/1.x: %s.", host, rootCause(rep.err))
		steps = append(steps, fmt.Sprintf("Something other than a web server answers on %s, or a proxy mangles the answer: `curl -v %s` shows what comes back; check the port in url: and any proxy in between.", host, rep.url))
	case errors.Is(rep.err, syscall.ECONNREFUSED):
		steps = append(steps, fmt.Sprintf("Nothing listens on %s, or a firewall rejects the connection: check the web server runs (`systemctl status apache2 nginx lsws`) and the port in url:.", host))
	case errors.Is(rep.err, syscall.ECONNRESET) || strings.Contains(rep.err.Error(), "EOF"):
		steps = append(steps, "The server closed the connection without answering: check the web server's error log, and for a firewall or WAF that resets connections from this address.")
	default:
		steps = append(steps, fmt.Sprintf("Check the network path from this host to %s (`curl -v %s`), routes and firewalls.", host, rep.url))
	}
	steps = append(steps, "Check outgoing firewall rules on this host and any HTTPS_PROXY/HTTP_PROXY environment the agent runs with.")
	return &sdk.Diagnosis{Code: "whmcs.unreachable", Severity: sdk.SeverityCritical, Message: msg, Remediation: steps, Details: d}
}

// notHTTP reports an answer Go's HTTP client could not read as HTTP/1.x:
// no status line (HTTP/0.9, another protocol) or a malformed header.
func notHTTP(err error) bool {
	return frontlayer.NotHTTP(err)
}

// tlsError explains a failed TLS handshake, or returns nil.
func (r *run) tlsError(rep *reply) *sdk.Diagnosis {
	var (
		verr     *tls.CertificateVerificationError
		invalid  x509.CertificateInvalidError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		record   tls.RecordHeaderError
		alert    tls.AlertError
	)
	err := rep.err
	d := r.details(rep, "")
	d["error"] = rootCause(err)
	host := r.cfg.endpoint.Hostname()
	diag := &sdk.Diagnosis{Code: "whmcs.tls_error", Severity: sdk.SeverityCritical, Details: d}
	if errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0 {
		r.noteCert(verr.UnverifiedCertificates[0])
		leaf := verr.UnverifiedCertificates[0]
		d["subject"] = leaf.Subject.String()
		d["issuer"] = leaf.Issuer.String()
		d["not_after"] = leaf.NotAfter.UTC().Format("2006-01-02T15:04:05Z")
	}
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		diag.Message = fmt.Sprintf("The TLS certificate of %s has expired (valid until %s): every API client refuses the connection.", host, invalid.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST"))
		diag.Remediation = []string{
			"Renew the certificate on the WHMCS web server (`certbot renew`, or AutoSSL in cPanel) and reload the web server.",
			"Check why automatic renewal failed (certbot's timer and its log /var/log/letsencrypt/letsencrypt.log), so it does not happen again; cert_expiry_warning raises a warning before expiry.",
		}
	case errors.As(err, &unknown):
		diag.Message = fmt.Sprintf("The TLS certificate of %s is not signed by an authority this host trusts (issuer %q): a self-signed certificate, a private CA, or a server that does not send its intermediate certificate.", host, unknown.Cert.Issuer.String())
		diag.Remediation = []string{
			"If the server uses a public CA, configure the web server to send the full chain (fullchain.pem, not cert.pem); `openssl s_client -connect " + r.cfg.endpoint.Host + " -showcerts` shows what it sends.",
			"If it uses a private CA, put that CA in a PEM file and set tls: {ca_file: /path/to/ca.pem} in this check's config.",
			"Do not set insecure_skip_verify except for a short test: it lets anyone in the path read the API secret.",
		}
	case errors.As(err, &hostname):
		diag.Message = fmt.Sprintf("The TLS certificate presented by %s is not valid for that name (%s).", host, hostname.Error())
		diag.Remediation = []string{
			"Use the host name the certificate is issued for in url:, or reissue the certificate to include " + host + ".",
			"If you connect by IP or through another name on purpose, set tls: {server_name: <name on the certificate>}.",
		}
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		diag.Message = fmt.Sprintf("%s did not answer TLS: url says https, but the port speaks plain HTTP (or another protocol).", r.cfg.endpoint.Host)
		diag.Remediation = []string{"Use the port the web server serves HTTPS on (usually 443), or enable TLS on the web server; do not switch url: to http://, which sends the secret in clear text."}
	case errors.As(err, &alert) || errors.As(err, &invalid) || verr != nil:
		diag.Message = fmt.Sprintf("The TLS handshake with %s failed: %s.", host, rootCause(err))
		diag.Remediation = []string{
			"Inspect the server's TLS setup with `openssl s_client -connect " + r.cfg.endpoint.Host + " -servername " + host + "`: protocol versions (TLS 1.2 or later is required), certificate chain and validity.",
		}
	default:
		return nil
	}
	return diag
}

func (r *run) serverError(rep *reply, e edge) *sdk.Diagnosis {
	d := r.details(rep, e.whmcsMessage)
	if t := pageTitle(rep.body); t != "" {
		d["page_title"] = t
	}
	if ex := r.excerpt(rep.body); ex != "" {
		d["body_excerpt"] = ex
	}
	diag := &sdk.Diagnosis{Code: "whmcs.server_error", Severity: sdk.SeverityCritical, Details: d}
	switch {
	case e.layer != "":
		d["layer"] = "cloudflare"
		if e.cfRay != "" {
			d["cf_ray"] = e.cfRay
		}
		if e.cfErrorCode != "" {
			d["cloudflare_error_code"] = e.cfErrorCode
		}
		diag.Message = fmt.Sprintf("Cloudflare could not get an answer from the WHMCS origin server (HTTP %d %s).", rep.status, e.cfTitle)
		diag.Remediation = []string{
			"Check that the origin web server runs and accepts connections from Cloudflare's addresses (error 521: refused, 522/524: timed out, 525/526: TLS between Cloudflare and the origin).",
			"Look up the Ray ID under Security > Events / Cloudflare's error documentation for the exact code.",
		}
	case rep.status == 502 || rep.status == 504:
		diag.Message = fmt.Sprintf("The reverse proxy in front of WHMCS could not get an answer from PHP (HTTP %d, server %q).", rep.status, r.field(rep.header.Get("Server")))
		diag.Remediation = []string{
			"On the WHMCS server check PHP-FPM (`systemctl status php*-fpm`) and its log; a full pool or a crashed worker gives 502/504.",
			"Check the proxy's error log for the upstream error (connect() failed, upstream timed out).",
		}
	case rep.status == 503:
		diag.Message = fmt.Sprintf("The WHMCS web server is unavailable (HTTP 503, page %q): overloaded, in maintenance, or PHP is down.", pageTitle(rep.body))
		diag.Remediation = []string{"Check the web server and PHP-FPM status and their error logs on the WHMCS server.", "If maintenance is planned, expect the check to recover when it ends."}
	case strings.Contains(strings.ToLower(string(rep.body[:min(len(rep.body), 64<<10)])), "ioncube"):
		diag.Message = fmt.Sprintf("WHMCS cannot run: its ionCube-encoded files need the ionCube Loader for this PHP version, which is missing or too old (HTTP %d: %q).", rep.status, r.excerpt(rep.body))
		diag.Remediation = []string{
			"Install the ionCube Loader matching the PHP version WHMCS runs under (the message names the file, e.g. ioncube_loader_lin_8.2.so), or switch the site back to a PHP version that has it (cPanel: MultiPHP Manager / PHP Selector).",
			"Check WHMCS's system requirements for the supported PHP and ionCube versions before changing PHP again.",
		}
	default:
		diag.Message = fmt.Sprintf("WHMCS failed with HTTP %d while handling the API call (page %q): a PHP error, usually a broken addon or hook, a database problem, or a missing ionCube loader after a PHP upgrade.", rep.status, pageTitle(rep.body))
		diag.Remediation = []string{
			"Read the PHP error log and WHMCS's System Logs (Activity Log, Module Log) on the WHMCS server at this time.",
			"Temporarily enable Display Errors in the admin area's General Settings, Other tab, to see the failing file, then turn it off again.",
			"If it started after an update, check the ionCube loader version matches the PHP version and re-run the WHMCS update's file upload.",
		}
	}
	return diag
}

// phpOutput reports PHP warnings (or a byte order mark) printed before
// WHMCS's JSON: pbxwatch reads past them, API clients that parse the body
// as JSON fail on them.
func (r *run) phpOutput(rep *reply, before string) *sdk.Diagnosis {
	d := r.details(rep, "")
	what := frontlayer.PHPOutputEvidence(d, before, r.secrets()...)
	return &sdk.Diagnosis{
		Code: "whmcs.php_output", Severity: sdk.SeverityWarning,
		Message: fmt.Sprintf("WHMCS's API answer to %s starts with %s before the JSON: integrations that parse the answer as JSON fail on it; pbxwatch read the JSON after it.", rep.action, what),
		Remediation: []string{
			"Turn PHP's display_errors off for WHMCS (php.ini or the site's .user.ini / PHP Selector: display_errors = Off), and in WHMCS's General Settings, Other tab, untick Display Errors: warnings belong in the log, not in API answers.",
			"Fix what the warning names (the file and line point at an addon, hook or module that needs an update for this PHP version).",
			"A byte order mark comes from a PHP file saved as \"UTF-8 with BOM\" (configuration.php, a hook or a language override): save it as UTF-8 without BOM.",
		},
		Details: d,
	}
}

// unexpected is the diagnosis of an answer no known cause explains. It
// does not guess: it quotes what came back so a person can tell.
func (r *run) unexpected(rep *reply, msg string) *sdk.Diagnosis {
	return r.unexplained(rep, msg, "")
}

// unexpectedSuccess is the diagnosis of a "success" that cannot be WHMCS's
// (at an error status, or without what WHMCS always sends): what is wrong
// with it is pbxwatch's finding, said in pbxwatch's words, not WHMCS's.
func (r *run) unexpectedSuccess(rep *reply, finding string) *sdk.Diagnosis {
	return r.unexplained(rep, "", finding)
}

// unexplained quotes what came back: WHMCS's message when it wrote one,
// else the body; finding, when set, is what pbxwatch found wrong with it.
func (r *run) unexplained(rep *reply, msg, finding string) *sdk.Diagnosis {
	d := r.details(rep, msg)
	d["content_type"] = r.field(rep.header.Get("Content-Type"))
	if ex := r.excerpt(rep.body); ex != "" {
		d["body_excerpt"] = ex
	} else {
		d["body_excerpt"] = "(empty)"
	}
	title := pageTitle(rep.body)
	if title != "" {
		d["page_title"] = title
	}
	what := "neither WHMCS's API JSON nor a page pbxwatch recognises"
	switch {
	case finding != "":
		d["finding"] = finding
		what = finding + ", which proves nothing: something other than WHMCS answered, or something between changed the answer"
	case msg != "":
		what = fmt.Sprintf("an error WHMCS documents nowhere, \"%s\", which proves neither that the action is allowed nor that it is refused", msg)
	}
	seen := []string{fmt.Sprintf("HTTP %d", rep.status)}
	if s := d["server"]; s != "" {
		seen = append(seen, fmt.Sprintf("server \"%s\"", s))
	}
	if title != "" {
		seen = append(seen, fmt.Sprintf("title \"%s\"", title))
	}
	if msg == "" {
		seen = append(seen, fmt.Sprintf("body \"%s\"", d["body_excerpt"]))
	}
	action := ""
	if rep.action != "" {
		action = " to " + rep.action
	}
	return &sdk.Diagnosis{
		Code: "whmcs.unexpected_response", Severity: sdk.SeverityCritical,
		Message: fmt.Sprintf("Unrecognised answer%s (cause unknown): %s: %s.", action, strings.Join(seen, ", "), what),
		Remediation: []string{
			"Compare with the answer to `curl -si -d action=WhmcsDetails -d responsetype=json " + rep.url + "` from this host: WHMCS answers {\"result\":...} JSON, at HTTP 403 without credentials.",
			"If something other than WHMCS answers at this address (a proxy, a firewall or bot protection, another application), find it from the server header and page title in the details, and let this host's API calls through, or set url: to the WHMCS root.",
			"If WHMCS itself answered, look for the call in WHMCS's Activity Log and System Logs (and any hook or addon that intercepts API calls).",
		},
		Details: d,
	}
}

// rootCause is the innermost error text, without Go's request prefixes
// ("Post \"https://...\": ").
func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		if _, ok := u.(*net.OpError); ok {
			return u.Error()
		}
		err = u
	}
}
