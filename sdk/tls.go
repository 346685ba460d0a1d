package sdk

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/pbxwatch/pbxwatch/sdk/pluginwire"
)

// maxTLSOffer bounds what a plugin reads from the agent's TLS offer: a
// P-256 key and its certificate are about 1 KiB.
const maxTLSOffer = 16 << 10

// offeredTLS returns the plugin's side of mutual TLS, served with the key
// and certificate the agent made for it and offered on the inherited
// descriptor named in pluginwire.TLSOfferFDEnv, trusting only the agent's
// certificate (PLUGIN_CLIENT_CERT). Without an offer (an agent from
// before it) it returns nil, and go-plugin's Serve makes a certificate of
// its own (AutoMTLS) as it always did: a P-521 one, whose precomputed table
// costs 0.5 MB of live heap, which is why the agent offers a P-256 one.
//
// Neither the variable nor the descriptor outlives the call, so a check's
// child process (a Nagios program) never inherits the key. No error
// quotes what was read.
func offeredTLS() (*tls.Config, error) {
	name, ok := os.LookupEnv(pluginwire.TLSOfferFDEnv)
	if !ok {
		return nil, nil
	}
	_ = os.Unsetenv(pluginwire.TLSOfferFDEnv)
	fd, err := strconv.Atoi(name)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q does not name an inherited file descriptor", pluginwire.TLSOfferFDEnv, name)
	}
	pemData, err := readTLSOffer(os.NewFile(uintptr(fd), "tls-offer"))
	if err != nil {
		return nil, fmt.Errorf("read the TLS key the agent offered on descriptor %d: %w", fd, err)
	}
	cert, err := tls.X509KeyPair(pemData, pemData)
	clear(pemData)
	if err != nil {
		return nil, fmt.Errorf("the TLS key and certificate the agent offered on descriptor %d: %w", fd, err)
	}
	agent := x509.NewCertPool()
	if !agent.AppendCertsFromPEM([]byte(os.Getenv("PLUGIN_CLIENT_CERT"))) {
		return nil, errors.New("the agent offered a TLS key but PLUGIN_CLIENT_CERT holds no certificate of its own to trust")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    agent,
		RootCAs:      agent,
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// readTLSOffer reads the offer to its end, at most maxTLSOffer bytes,
// and closes it.
func readTLSOffer(f *os.File) ([]byte, error) {
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxTLSOffer+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTLSOffer {
		clear(data)
		return nil, fmt.Errorf("more than %d bytes", maxTLSOffer)
	}
	return data, nil
}
