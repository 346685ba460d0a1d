package accesslog

import "bytes"

// endpoint is the FreePBX API surface a request went to; its name is the
// `endpoint` label.
type endpoint int

const (
	epToken endpoint = iota // OAuth2 token: /admin/api/api/token
	epGQL                   // GraphQL: /admin/api/api/gql
	epREST                  // REST: /admin/api/api/rest/...
	epAjax                  // /admin/ajax.php, and every other /admin/api/... (api.php includes ajax.php)
	epUCP                   // UCP's /ucp/ajax.php
	epOther
	numEndpoints
)

var endpointNames = [numEndpoints]string{"token", "gql", "rest", "ajax", "ucp", "other"}

func (e endpoint) String() string { return endpointNames[e] }

// api says whether e is part of FreePBX's API (everything but other).
func (e endpoint) api() bool { return e != epOther }

var (
	prefixAPI    = []byte("/admin/api/")
	prefixAPIAPI = []byte("/admin/api/api/")
	pathAjax     = []byte("/admin/ajax.php")
	pathUCPAjax  = []byte("/ucp/ajax.php")
)

// classify tells the endpoint of a request target. The query string is
// ignored; so are repeated slashes at the start ("//admin/ajax.php" reaches
// the same script). Matching is exact on the path as logged: Apache logs
// the target as the client sent it, and FreePBX's rewrite rules match it
// the same way.
func classify(target []byte) endpoint {
	path := withoutQuery(target)
	// An absolute-form target ("http://host/admin/...") is rare but legal.
	if len(path) > 0 && path[0] != '/' {
		if i := bytes.Index(path, []byte("://")); i >= 0 {
			rest := path[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				path = rest[j:]
			} else {
				return epOther
			}
		}
	}
	for len(path) > 1 && path[1] == '/' {
		path = path[1:]
	}
	switch {
	case bytes.HasPrefix(path, prefixAPIAPI):
		cmd := path[len(prefixAPIAPI):]
		switch {
		case isCommand(cmd, "token"):
			return epToken
		case isCommand(cmd, "gql"):
			return epGQL
		case isCommand(cmd, "rest"):
			return epREST
		}
		return epAjax
	case bytes.HasPrefix(path, prefixAPI):
		return epAjax
	case bytes.Equal(path, pathAjax):
		return epAjax
	case bytes.Equal(path, pathUCPAjax):
		return epUCP
	}
	return epOther
}

// withoutQuery cuts target at its first '?' or '#'. A plain loop: it runs
// once per line, on a target of tens of bytes, where bytes.IndexAny's set
// building costs more than the search.
func withoutQuery(target []byte) []byte {
	for i, c := range target {
		if c == '?' || c == '#' {
			return target[:i]
		}
	}
	return target
}

// isCommand says whether p is the api module command c, alone or followed
// by a route ("rest/core/extensions") or a trailing slash.
func isCommand(p []byte, c string) bool {
	return len(p) >= len(c) && string(p[:len(c)]) == c && (len(p) == len(c) || p[len(c)] == '/')
}
