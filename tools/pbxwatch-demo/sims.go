package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pbxwatch/pbxwatch/plugins/freepbx/freepbxsim"
	"github.com/pbxwatch/pbxwatch/plugins/whmcs/whmcssim"
)

// startSimulators serves the WHMCS and FreePBX simulators on loopback, and
// writes the credentials configs/demo.yaml reads into dataDir.
func startSimulators(ctx context.Context, dataDir string, log *slog.Logger) (stop func(), err error) {
	secrets := map[string]string{
		"whmcs.identifier": whmcssim.DefaultIdentifier,
		"whmcs.secret":     whmcssim.DefaultSecret,
		"freepbx.secret":   freepbxsim.DefaultSecret,
	}
	for name, v := range secrets {
		if err := os.WriteFile(filepath.Join(dataDir, name), []byte(v+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	var servers []*http.Server
	for _, s := range []struct {
		addr string
		h    http.Handler
	}{
		{whmcsAddr, whmcssim.New(whmcssim.Options{SlowDelay: 45 * time.Second})},
		{freepbxAddr, freepbxsim.New(freepbxsim.Options{SlowDelay: 45 * time.Second})},
	} {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, srv := range servers {
				_ = srv.Close()
			}
			return nil, fmt.Errorf("simulator on %s: %w (is another demo running?)", s.addr, err)
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("simulator stopped", "addr", s.addr, "err", err)
			}
		}()
	}
	return func() {
		for _, srv := range servers {
			_ = srv.Close()
		}
	}, nil
}
