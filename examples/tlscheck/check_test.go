package main

// The template's tests run its real binary through the agent's plugin host
// (sdktest), against local TLS servers with certificates made here.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// tlsServer serves TLS on 127.0.0.1 with a leaf for "pbx.test" signed by
// a fresh CA, valid until notAfter. It returns the address and the CA file.
func tlsServer(t *testing.T, notAfter time.Time) (addr, caFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "pbx.test"},
		DNSNames: []string{"pbx.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	return l.Addr().String(), caFile
}

func run(t *testing.T, cfg string) *sdk.Result {
	t.Helper()
	p, err := sdktest.Start(t, sdktest.Build(t, "example.com/pbxwatch-plugin-tlscheck"), sdktest.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return p.Check(context.Background())
}

func codeOf(res *sdk.Result) string {
	if len(res.Diagnoses) == 0 {
		return ""
	}
	return res.Diagnoses[0].Code
}

func TestCertificateExpiry(t *testing.T) {
	cases := []struct {
		name   string
		left   time.Duration
		status sdk.Status
		code   string
	}{
		{"far", 100 * 24 * time.Hour, sdk.StatusOK, ""},
		{"within warn_days", 15 * 24 * time.Hour, sdk.StatusWarning, "tlscheck.expires_soon"},
		{"within critical_days", 3 * 24 * time.Hour, sdk.StatusCritical, "tlscheck.expires_soon"},
		{"expired", -time.Minute, sdk.StatusCritical, "tlscheck.expired"},
	}
	for _, c := range cases {
		addr, ca := tlsServer(t, time.Now().Add(c.left))
		res := run(t, "address: "+addr+"\nserver_name: pbx.test\nca_file: "+ca+"\n")
		if res.Status != c.status || codeOf(res) != c.code {
			t.Errorf("%s: %v %q %+v", c.name, res.Status, res.Summary, res.Diagnoses)
		}
	}
}

func TestConnectionFailures(t *testing.T) {
	addr, ca := tlsServer(t, time.Now().Add(100*24*time.Hour))
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	cases := []struct{ name, cfg, code string }{
		{"untrusted CA", "address: " + addr + "\nserver_name: pbx.test\n", "tlscheck.untrusted"},
		{"wrong name", "address: " + addr + "\nserver_name: other.test\nca_file: " + ca + "\n", "tlscheck.name_mismatch"},
		{"closed port", "address: " + closed + "\n", "tlscheck.unreachable"},
	}
	for _, c := range cases {
		res := run(t, c.cfg)
		if res.Status != sdk.StatusCritical || codeOf(res) != c.code || res.Diagnoses[0].Details["error"] == "" {
			t.Errorf("%s: %v %q %+v", c.name, res.Status, res.Summary, res.Diagnoses)
		}
	}
}

func TestConfigErrorsNameTheLine(t *testing.T) {
	_, err := sdktest.Start(t, sdktest.Build(t, "example.com/pbxwatch-plugin-tlscheck"),
		sdktest.Options{Config: "address: pbx.test\nwarn_days: 3\ncritical_days: 7\nadress: x\n"})
	if err == nil || !sdktest.IsConfigError(err) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{`config:4: unknown key "adress"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	_, err = sdktest.Start(t, sdktest.Build(t, "example.com/pbxwatch-plugin-tlscheck"),
		sdktest.Options{Config: "address: pbx.test\nwarn_days: 3\ncritical_days: 7\n"})
	if err == nil || !strings.Contains(err.Error(), "write host:port") || !strings.Contains(err.Error(), "critical_days (7) <= warn_days (3)") {
		t.Fatalf("err = %v", err)
	}
}
