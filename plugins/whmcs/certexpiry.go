package whmcs

import (
	"crypto/x509"
	"fmt"
	"math"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// The server certificate's expiry, from the first TLS handshake of the run
// (or from the certificate a failed verification rejected).

type certInfo struct {
	notAfter time.Time
	subject  string
	issuer   string
}

func (r *run) observeTLS(rep *reply) {
	if rep.tls != nil && len(rep.tls.PeerCertificates) > 0 {
		r.noteCert(rep.tls.PeerCertificates[0])
	}
}

func (r *run) noteCert(c *x509.Certificate) {
	if r.certSeen {
		return
	}
	r.certSeen = true
	r.cert = certInfo{notAfter: c.NotAfter, subject: c.Subject.String(), issuer: c.Issuer.String()}
}

func (r *run) checkCertExpiry() {
	if !r.certSeen {
		return
	}
	c := r.cert
	r.res.AddGauge("whmcs_tls_cert_expiry_timestamp_seconds", "When the WHMCS server's TLS certificate expires (Unix time).", float64(c.notAfter.Unix()), nil)
	left := c.notAfter.Sub(r.now())
	if left <= 0 || left > r.cfg.CertExpiryWarning {
		return // expired certificates fail the handshake: tls_error says so
	}
	days := int(math.Floor(left.Hours() / 24))
	r.diagnose(&sdk.Diagnosis{
		Code: "whmcs.tls_expiring", Severity: sdk.SeverityWarning,
		Message: fmt.Sprintf("The TLS certificate of %s expires in %d day%s (%s); after that every API client refuses the connection.", r.cfg.endpoint.Hostname(), days, plural(days), c.notAfter.UTC().Format("2006-01-02 15:04 MST")),
		Remediation: []string{
			"Renew the certificate on the WHMCS web server (`certbot renew`, or Run AutoSSL in cPanel) and reload the web server.",
			"If renewal is automatic, find out why it has not happened yet: certbot's timer (`systemctl list-timers certbot*`) and /var/log/letsencrypt/letsencrypt.log; Let's Encrypt certificates renew 30 days before expiry.",
		},
		Details: map[string]string{
			"not_after": c.notAfter.UTC().Format(time.RFC3339), "days_left": fmt.Sprint(days),
			"subject": c.subject, "issuer": c.issuer, "warning_before": r.cfg.CertExpiryWarning.String(),
			"url": r.cfg.endpoint.String(),
		},
	})
}
