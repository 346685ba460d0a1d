package pluginhost

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
)

// launchTLS is the mutual TLS of one plugin launch. The agent makes both
// certificates (P-256): its own, passed in PLUGIN_CLIENT_CERT as go-plugin's
// AutoMTLS does, and the plugin's, offered with its key on an inherited
// pipe. go-plugin's AutoMTLS would make P-521 certificates on both sides,
// and P-521's precomputed table costs 0.5 MB of live heap in every process
// that generates, signs or verifies with it. A plugin that ignores the
// offer (older SDK builds, the Python library) answers with a certificate
// of its own in the handshake line, which go-plugin then trusts instead of
// the offered one.
type launchTLS struct {
	config    *tls.Config // the agent's side; go-plugin may replace its RootCAs
	clientPEM []byte      // the agent's certificate, for PLUGIN_CLIENT_CERT
	offer     *os.File    // read end of the pipe holding the plugin's key and certificate
	offered   *x509.Certificate
	// peer is the certificate the plugin served, once connected.
	peer atomic.Pointer[x509.Certificate]
}

// certificateHost is the name in both certificates, the name go-plugin
// and the SDK verify.
const certificateHost = "localhost"

// newLaunchTLS makes the certificates of one launch and the pipe that
// offers the plugin its key. The caller hands it to a command with attach
// and closes it after the start.
func newLaunchTLS() (*launchTLS, error) {
	clientCert, clientPEM, _, err := newSelfSignedCert()
	if err != nil {
		return nil, fmt.Errorf("make the agent's TLS certificate: %w", err)
	}
	serverCert, serverPEM, serverKeyPEM, err := newSelfSignedCert()
	if err != nil {
		return nil, fmt.Errorf("make the plugin's TLS certificate: %w", err)
	}
	offer, err := pipeHolding(append(serverKeyPEM, serverPEM...))
	if err != nil {
		return nil, fmt.Errorf("offer the plugin its TLS certificate: %w", err)
	}
	l := &launchTLS{clientPEM: clientPEM, offer: offer, offered: serverCert.Leaf}
	// Only the certificate made for this plugin is trusted (never the
	// system's roots), until a plugin that made its own sends it in the
	// handshake line and go-plugin trusts that one instead.
	trusted := x509.NewCertPool()
	trusted.AddCert(serverCert.Leaf)
	l.config = &tls.Config{
		Certificates: []tls.Certificate{clientCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
		ServerName:   certificateHost,
		RootCAs:      trusted,
		ClientCAs:    trusted,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				l.peer.Store(cs.PeerCertificates[0])
			}
			return nil
		},
	}
	return l, nil
}

// attach gives cmd the agent's certificate and the offer: the pipe is the
// next inherited file, its descriptor named in pluginwire.TLSOfferFDEnv.
func (l *launchTLS) attach(cmd *exec.Cmd) {
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, l.offer)
	cmd.Env = append(cmd.Env, "PLUGIN_CLIENT_CERT="+string(l.clientPEM), pluginwire.TLSOfferFDEnv+"="+strconv.Itoa(fd))
}

// closeOffer drops the agent's end of the offer once the plugin has its
// own copy (or failed to start): the key then lives only in the plugin.
func (l *launchTLS) closeOffer() {
	_ = l.offer.Close()
}

// pipeHolding returns the read end of a pipe holding data, its write end
// closed, so a reader gets data then EOF. data must fit the pipe's buffer
// (64 KiB on Linux; a key and a certificate are about 1 KiB).
func pipeHolding(data []byte) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	_, werr := w.Write(data)
	cerr := w.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// newSelfSignedCert makes a P-256 key and a self-signed certificate for
// localhost, usable by either end (server and client auth) and as its
// own CA. Its validity starts a day back, so a clock stepped back after
// the launch does not invalidate it, and spans go-plugin's 30 years.
func newSelfSignedCert() (cert tls.Certificate, certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return cert, nil, nil, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: certificateHost, Organization: []string{"pbxwatch"}},
		DNSNames:              []string{certificateHost},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(30 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return cert, nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return cert, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return cert, nil, nil, err
	}
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return cert, certPEM, keyPEM, nil
}
