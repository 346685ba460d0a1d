package web

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	toolkitweb "github.com/prometheus/exporter-toolkit/web"
)

// ExternalURL is --web.external-url, or as Prometheus computes it when
// unset: http://<hostname>:<port of the first listen address>/. Its path
// is the route prefix the agent serves under.
func ExternalURL(flag string, wf *toolkitweb.FlagConfig) (*url.URL, error) {
	if flag == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, err
		}
		port := ""
		if wf != nil && wf.WebListenAddresses != nil && len(*wf.WebListenAddresses) > 0 {
			_, port, _ = net.SplitHostPort((*wf.WebListenAddresses)[0])
		}
		if port != "" {
			host = net.JoinHostPort(host, port)
		}
		flag = "http://" + host + "/"
	}
	u, err := url.Parse(flag)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL such as https://pbx.example.com/pbxwatch/", flag)
	}
	if u.Host == "" {
		return nil, errors.New("no host in " + fmt.Sprintf("%q", flag))
	}
	u.Path = "/" + strings.Trim(u.Path, "/")
	if u.Path != "/" {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}
