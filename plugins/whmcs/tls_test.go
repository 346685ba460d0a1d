package whmcs

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// tlsSim serves the simulator over TLS with a certificate valid until
// notAfter and returns its URL and a ca_file for it.
func tlsSim(t *testing.T, notAfter time.Time) (string, string) {
	t.Helper()
	cert, err := whmcssim.NewCert([]string{"127.0.0.1"}, time.Now().Add(-48*time.Hour), notAfter)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(whmcssim.New(whmcssim.Options{}))
	srv.TLS = cert.TLSConfig()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, cert.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL, ca
}

func tlsConfigFor(u, ca, extra string) string {
	return "url: " + u + "/\nidentifier: " + whmcssim.DefaultIdentifier + "\nsecret: " + whmcssim.DefaultSecret + "\ntls:\n  ca_file: " + ca + "\n" + extra
}

func TestCertificateExpiringSoon(t *testing.T) {
	notAfter := time.Now().Add(3*24*time.Hour + time.Hour).Truncate(time.Second)
	u, ca := tlsSim(t, notAfter)
	res := runCheck(t, tlsConfigFor(u, ca, ""))
	d := diagnosis(t, res, "whmcs.tls_expiring")
	if res.Status != sdk.StatusWarning || d.Details["days_left"] != "3" || metric(t, res, "whmcs_api_up", nil) != 1 {
		t.Fatalf("%s %+v", res.Status, d)
	}
	if got := metric(t, res, "whmcs_tls_cert_expiry_timestamp_seconds", nil); got != float64(notAfter.Unix()) {
		t.Fatalf("expiry metric %v, want %d", got, notAfter.Unix())
	}
	mustContain(t, "remediation", steps(d), "certbot")

	// The same certificate is fine when the warning window is shorter.
	res = runCheck(t, tlsConfigFor(u, ca, "cert_expiry_warning: 48h"))
	if res.Status != sdk.StatusOK {
		t.Fatalf("%s %+v", res.Status, res.Diagnoses)
	}
}

func TestTLSErrors(t *testing.T) {
	expiredURL, expiredCA := tlsSim(t, time.Now().Add(-time.Hour))
	res := runCheck(t, tlsConfigFor(expiredURL, expiredCA, ""))
	d := diagnosis(t, res, "whmcs.tls_error")
	mustContain(t, "message", d.Message, "has expired")
	if !hasMetric(res, "whmcs_tls_cert_expiry_timestamp_seconds") || metric(t, res, "whmcs_api_up", nil) != 0 {
		t.Fatal("an expired certificate's expiry must still be exported, api_up 0")
	}

	goodURL, _ := tlsSim(t, time.Now().Add(90*24*time.Hour))
	res = runCheck(t, "url: "+goodURL+"/\nidentifier: "+whmcssim.DefaultIdentifier+"\nsecret: "+whmcssim.DefaultSecret+"\n")
	d = diagnosis(t, res, "whmcs.tls_error")
	mustContain(t, "diagnosis", d.Message+steps(d), "not signed by an authority this host trusts", "ca_file")

	// An https URL at a plain-HTTP port.
	res = runCheck(t, strings.Replace(simConfig("/"), "http://", "https://", 1))
	d = diagnosis(t, res, "whmcs.tls_error")
	mustContain(t, "message", d.Message, "port speaks plain HTTP")
}
