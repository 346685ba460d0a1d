package pluginhost

import (
	"crypto/x509"
	"os/exec"
)

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

// Cmd returns the command of h's running plugin process.
func Cmd(h *Host) *exec.Cmd {
	h.owner.mu.Lock()
	defer h.owner.mu.Unlock()
	return h.owner.proc.cmd
}
