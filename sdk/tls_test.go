package sdk

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
)

// testCert is a self-signed P-256 certificate for localhost, as the agent
// makes them, with its PEM forms.
type testCert struct {
	tls             tls.Certificate
	certPEM, keyPEM []byte
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := testCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	if c.tls, err = tls.X509KeyPair(c.certPEM, c.keyPEM); err != nil {
		t.Fatal(err)
	}
	return c
}

// offer puts data in a pipe, as the agent does, and names its read end in
// the environment with the agent's certificate; it returns the descriptor.
func offer(t *testing.T, data []byte, agentPEM []byte) int {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Write(p[1], data); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Close(p[1])
	t.Setenv(pluginwire.TLSOfferFDEnv, strconv.Itoa(p[0]))
	t.Setenv("PLUGIN_CLIENT_CERT", string(agentPEM))
	return p[0]
}

// handshake runs a TLS handshake between server (the plugin's side) and a
// client presenting client and trusting the server's certificate.
func handshake(server *tls.Config, client tls.Certificate, trusted *x509.Certificate) error {
	a, b := net.Pipe()
	defer func() { _ = a.Close(); _ = b.Close() }()
	roots := x509.NewCertPool()
	roots.AddCert(trusted)
	done := make(chan error, 1)
	go func() { done <- tls.Server(a, server).Handshake() }()
	cerr := tls.Client(b, &tls.Config{Certificates: []tls.Certificate{client}, RootCAs: roots, ServerName: "localhost"}).Handshake()
	_ = b.Close()
	return errors.Join(<-done, cerr)
}

func TestOfferedTLSServesTheOfferAndTrustsOnlyTheAgent(t *testing.T) {
	plugin, agent, stranger := newTestCert(t), newTestCert(t), newTestCert(t)
	fd := offer(t, append(plugin.keyPEM, plugin.certPEM...), agent.certPEM)
	cfg, err := offeredTLS()
	if err != nil {
		t.Fatal(err)
	}
	if cfg == nil || len(cfg.Certificates) != 1 || !cfg.Certificates[0].Leaf.Equal(plugin.tls.Leaf) ||
		cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("config %+v", cfg)
	}
	if _, set := os.LookupEnv(pluginwire.TLSOfferFDEnv); set {
		t.Fatal("the offer's variable is still set: a child would see it")
	}
	if _, err := fcntlGetFD(fd); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("descriptor %d still open after reading the offer (%v): a child would inherit it", fd, err)
	}
	if err := handshake(cfg, agent.tls, plugin.tls.Leaf); err != nil {
		t.Fatalf("the agent's certificate was refused: %v", err)
	}
	if err := handshake(cfg, stranger.tls, plugin.tls.Leaf); err == nil {
		t.Fatal("a client certificate other than the agent's was accepted")
	}
}

func fcntlGetFD(fd int) (uintptr, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}

func TestNoOfferLeavesTLSToGoPlugin(t *testing.T) {
	t.Setenv(pluginwire.TLSOfferFDEnv, "")
	_ = os.Unsetenv(pluginwire.TLSOfferFDEnv)
	if cfg, err := offeredTLS(); cfg != nil || err != nil {
		t.Fatalf("%v %v", cfg, err)
	}
}

// TestABadOfferIsAClearErrorThatNeverQuotesTheKey: whatever the offer
// holds, the error names the problem and shows none of the key.
func TestABadOfferIsAClearErrorThatNeverQuotesTheKey(t *testing.T) {
	plugin, other := newTestCert(t), newTestCert(t)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"another's certificate": {append(plugin.keyPEM, other.certPEM...), "private key does not match public key"},
		"no certificate":        {plugin.keyPEM, "failed to find"},
		"cut key":               {append(cutKey(t, plugin.keyPEM), plugin.certPEM...), "failed to parse private key"},
		"oversized":             {bytes.Repeat(plugin.keyPEM, maxTLSOffer/len(plugin.keyPEM)+1), "more than 16384 bytes"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			offer(t, c.data, plugin.certPEM)
			cfg, err := offeredTLS()
			if err == nil || cfg != nil {
				t.Fatalf("accepted: %v", cfg)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "the agent offered on descriptor") {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			assertNoKeyIn(t, err.Error(), plugin.keyPEM)
		})
	}
	t.Run("no agent certificate", func(t *testing.T) {
		offer(t, append(plugin.keyPEM, plugin.certPEM...), nil)
		if _, err := offeredTLS(); err == nil || !strings.Contains(err.Error(), "PLUGIN_CLIENT_CERT") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("not a descriptor", func(t *testing.T) {
		t.Setenv(pluginwire.TLSOfferFDEnv, "2")
		if _, err := offeredTLS(); err == nil || !strings.Contains(err.Error(), `PBXWATCH_PLUGIN_TLS_FD="2" does not name an inherited file descriptor`) {
			t.Fatalf("error %v", err)
		}
	})
}

// cutKey returns the key's PEM holding only the first half of its DER.
func cutKey(t *testing.T, keyPEM []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		t.Fatal("no PEM")
	}
	return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes[:len(b.Bytes)/2]})
}

// assertNoKeyIn fails when s holds any line of the key's PEM body.
func assertNoKeyIn(t *testing.T, s string, keyPEM []byte) {
	t.Helper()
	for _, line := range strings.Split(string(keyPEM), "\n") {
		if len(line) > 8 && !strings.HasPrefix(line, "-----") && strings.Contains(s, line) {
			t.Fatalf("the error quotes the key: %q", s)
		}
	}
}
