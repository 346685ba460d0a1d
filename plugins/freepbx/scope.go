package freepbx

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// scopeGrammar is FreePBX's scope shape (Api::getFlattenedScopes): gql or
// rest, then optionally :<module rawname>, :read or :write, :<item>.
var scopeGrammar = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(gql|rest)(:[a-z0-9_]+(:(read|write)(:[A-Za-z0-9_-]+)?)?)?$`)
})

const scopeShape = "FreePBX scopes are gql or rest, optionally followed by :<module>, then :read or :write, then :<item> " +
	"(e.g. gql, gql:core, gql:core:read, gql:core:read:extension)"

// checkScope rejects strings that cannot be FreePBX scopes and suggests the
// one most likely meant.
func checkScope(s string) error {
	if scopeGrammar().MatchString(s) {
		return nil
	}
	return fmt.Errorf("%q is not a FreePBX scope; %s; did you mean %q?", s, scopeShape, suggestScope(s))
}

// resourceModules maps words people use in other APIs' scopes to the
// FreePBX module whose GraphQL covers them.
var resourceModules = map[string]string{
	"extension": "core", "extensions": "core", "user": "core", "users": "core", "device": "core", "devices": "core",
	"trunk": "core", "trunks": "core", "route": "core", "routes": "core", "did": "core", "dids": "core",
	"system": "framework", "version": "framework",
}

func suggestScope(s string) string {
	typ, perm, module := "gql", "read", ""
	for _, p := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ':' || r == '.' || r == '/' || r == ' ' }) {
		switch {
		case p == "gql" || p == "rest":
			typ = p
		case p == "read" || p == "write":
			perm = p
		case p == "graphql":
			typ = "gql"
		case module == "":
			module = p
			if m, ok := resourceModules[p]; ok {
				module = m
			}
		}
	}
	if module == "" {
		return typ
	}
	return typ + ":" + module + ":" + perm
}

// covered is FreePBX's ApiBase::checkScope: a token's scopes cover a scope
// when they hold it or any colon-prefix of it (gql covers gql:core, which
// covers gql:core:read). A longer scope never covers a shorter one, so
// gql:core:read:extension does not grant gql:core:read, which is what
// fetchAllExtensions checks.
func covered(granted []string, scope string) bool {
	for _, g := range granted {
		if scope == g || strings.HasPrefix(scope, g+":") {
			return true
		}
	}
	return false
}

// missingScopes lists the required scopes the granted ones do not cover.
func missingScopes(granted, required []string) []string {
	var out []string
	for _, r := range required {
		if !covered(granted, r) {
			out = append(out, r)
		}
	}
	return out
}

// fieldScopes names the scope FreePBX checks before it puts a well-known
// GraphQL query field into the schema.
var fieldScopes = map[string]string{
	"fetchAllExtensions": "gql:core:read", "fetchAllValidExtensions": "gql:core:read", "fetchExtension": "gql:core:read",
	"allCoreUsers": "gql:core:read", "coreUser": "gql:core:read",
	"system": "gql:framework:read:system", "fetchAsteriskDetails": "gql:framework:read:system", "fetchDBStatus": "gql:framework:read:system",
}
