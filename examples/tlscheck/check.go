package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

type checker struct{ cfg config }

// Configure decodes and validates the config; it runs before any Check and
// for `pbxwatch validate`, so it contacts nothing.
func (c *checker) Configure(_ context.Context, cfg *sdk.Config) error {
	return cfg.Decode(&c.cfg)
}

// Check connects once, verifies the certificate and reports its expiry.
func (c *checker) Check(ctx context.Context) (*sdk.Result, error) {
	res := &sdk.Result{}
	evidence := map[string]string{"address": c.cfg.Address, "server_name": c.cfg.ServerName}
	start := time.Now()
	dialer := &tls.Dialer{Config: &tls.Config{ServerName: c.cfg.ServerName, RootCAs: c.cfg.roots}}
	conn, err := dialer.DialContext(ctx, "tcp", c.cfg.Address)
	if err != nil {
		c.diagnoseDialError(res, err, evidence)
		res.AddGauge("tlscheck_up", "1 when the endpoint completed a verified TLS handshake.", 0, nil)
		return res, nil
	}
	defer conn.Close()
	res.AddGauge("tlscheck_up", "1 when the endpoint completed a verified TLS handshake.", 1, nil)
	res.AddGauge("tlscheck_handshake_seconds", "Time to connect and complete the TLS handshake.", time.Since(start).Seconds(), nil)

	leaf := conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
	left := time.Until(leaf.NotAfter)
	days := int(math.Floor(left.Hours() / 24))
	res.AddGauge("tlscheck_cert_not_after_timestamp_seconds", "When the endpoint's certificate expires.", float64(leaf.NotAfter.Unix()), nil)
	evidence["subject"] = leaf.Subject.String()
	evidence["issuer"] = leaf.Issuer.String()
	evidence["not_after"] = leaf.NotAfter.UTC().Format(time.RFC3339)
	res.Summary = fmt.Sprintf("certificate of %s valid for %d more days (until %s)", c.cfg.Address, days, leaf.NotAfter.UTC().Format("2006-01-02"))

	sev := sdk.Severity("")
	switch {
	case days < c.cfg.CriticalDays:
		sev = sdk.SeverityCritical
	case days < c.cfg.WarnDays:
		sev = sdk.SeverityWarning
	}
	if sev != "" {
		res.Diagnose(sdk.Diagnosis{
			Code: "tlscheck.expires_soon", Severity: sev,
			Message: fmt.Sprintf("The certificate of %s expires in %d days, on %s.", c.cfg.Address, days, evidence["not_after"]),
			Remediation: []string{
				"FreePBX: Admin → Certificate Management → update the certificate (Let's Encrypt renews from there), then Settings → System Admin → HTTPS Setup to use it.",
				"Check that the renewal can reach Let's Encrypt: port 80 open to the internet and the FreePBX firewall's \"Let's Encrypt\" rule enabled.",
				"After renewing: fwconsole reload, and for PJSIP TLS also: asterisk -rx 'module reload res_pjsip.so'.",
			},
			Details: evidence,
		})
	}
	return res, nil
}

// diagnoseDialError names why no verified connection was made.
func (c *checker) diagnoseDialError(res *sdk.Result, err error, evidence map[string]string) {
	evidence["error"] = err.Error()
	var (
		hostErr    x509.HostnameError
		authErr    x509.UnknownAuthorityError
		invalidErr x509.CertificateInvalidError
		opErr      *net.OpError
	)
	d := sdk.Diagnosis{Severity: sdk.SeverityCritical, Details: evidence}
	switch {
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		d.Code, d.Message = "tlscheck.expired", fmt.Sprintf("The certificate of %s has expired: %v.", c.cfg.Address, invalidErr)
		d.Remediation = []string{"Renew it now: FreePBX Admin → Certificate Management.", "Then fwconsole reload."}
	case errors.As(err, &hostErr):
		d.Code, d.Message = "tlscheck.name_mismatch", fmt.Sprintf("The certificate of %s is not valid for %q: %v.", c.cfg.Address, c.cfg.ServerName, hostErr)
		d.Remediation = []string{"Issue the certificate for the name clients use, or set server_name to it."}
	case errors.As(err, &authErr):
		d.Code, d.Message = "tlscheck.untrusted", fmt.Sprintf("The certificate of %s is signed by an authority this host does not trust (%s).", c.cfg.Address, authErr.Cert.Issuer)
		d.Remediation = []string{"Use a certificate from a public CA (Let's Encrypt in Certificate Management), or set ca_file to your private CA."}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		d.Code, d.Message = "tlscheck.unreachable", fmt.Sprintf("Could not connect to %s: %v.", c.cfg.Address, opErr.Err)
		d.Remediation = []string{"Check that the service listens (ss -ltn) and that no firewall drops the port."}
	case errors.Is(err, context.DeadlineExceeded):
		d.Code, d.Message = "tlscheck.timeout", fmt.Sprintf("%s did not complete a TLS handshake before the check's timeout.", c.cfg.Address)
		d.Remediation = []string{"Check that the port speaks TLS (not plain HTTP or SIP over UDP/TCP)."}
	default:
		// Not a cause this check knows: quote the evidence, never guess.
		d.Code, d.Message = "tlscheck.handshake_failed", fmt.Sprintf("The TLS handshake with %s failed: %v.", c.cfg.Address, err)
		d.Remediation = []string{"Try it by hand: openssl s_client -connect " + c.cfg.Address + " -servername " + c.cfg.ServerName}
	}
	res.Summary = strings.TrimSuffix(d.Message, ".")
	res.Diagnose(d)
}
