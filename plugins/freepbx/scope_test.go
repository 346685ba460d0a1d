package freepbx

import (
	"strings"
	"testing"
)

func TestCoveredFollowsFreePBXRule(t *testing.T) {
	cases := []struct {
		granted []string
		scope   string
		want    bool
	}{
		{[]string{"gql"}, "gql:core:read", true},
		{[]string{"gql:core"}, "gql:core:read", true},
		{[]string{"gql:core:read"}, "gql:core:read", true},
		{[]string{"gql:core:read"}, "gql:core:read:extension", true},
		{[]string{"gql:core:read:extension"}, "gql:core:read", false},
		{[]string{"gql:core:write"}, "gql:core:read", false},
		{[]string{"gql:framework"}, "gql:core:read", false},
		{[]string{"rest"}, "gql:core:read", false},
		{[]string{"gql:cor"}, "gql:core:read", false}, // prefixes are whole segments
		{[]string{"gql:core:read"}, "gql:core", false},
		{nil, "gql", false},
	}
	for _, c := range cases {
		if got := covered(c.granted, c.scope); got != c.want {
			t.Errorf("covered(%v, %s) = %v, want %v", c.granted, c.scope, got, c.want)
		}
	}
	if m := missingScopes([]string{"gql:core:read:extension", "gql:framework"}, []string{"gql:core:read", "gql:framework:read:system"}); strings.Join(m, " ") != "gql:core:read" {
		t.Errorf("missingScopes = %v", m)
	}
}

func TestCheckScopeGrammar(t *testing.T) {
	for _, ok := range []string{"gql", "rest", "gql:core", "gql:core:read", "gql:core:write", "gql:core:read:extension", "rest:core:read:users", "gql:framework:read:system"} {
		if err := checkScope(ok); err != nil {
			t.Errorf("%s rejected: %v", ok, err)
		}
	}
	cases := map[string]string{
		"extensions:read": "gql:core:read",
		"read:extensions": "gql:core:read",
		"graphql":         "gql",
		"gql:core:admin":  "gql:core:read",
		"write:users":     "gql:core:write",
		"GQL:Core":        "gql:core:read",
		"rest/system":     "rest:framework:read",
		"":                "gql",
		"gql:core:read:":  "gql:core:read",
		"openid":          "gql:openid:read",
	}
	for in, want := range cases {
		err := checkScope(in)
		if err == nil {
			t.Errorf("%q accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), "did you mean \""+want+"\"") || !strings.Contains(err.Error(), "is not a FreePBX scope") {
			t.Errorf("%q: %v; want suggestion %s", in, err, want)
		}
	}
}
