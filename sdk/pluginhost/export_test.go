package pluginhost

import "crypto/x509"

// TLSCertificates returns the certificate the agent offered h's plugin
// process and the one that process served when the agent connected.
func TLSCertificates(h *Host) (offered, served *x509.Certificate) {
	h.owner.mu.Lock()
	defer h.owner.mu.Unlock()
	if h.owner.proc == nil {
		return nil, nil
	}
	t := h.owner.proc.tls
	return t.offered, t.peer.Load()
}
