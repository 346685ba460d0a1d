package main

import "testing"

func TestClassify(t *testing.T) {
	for target, want := range map[string]string{
		"/admin/api/api/token":                     "token",
		"/admin/api/api/token/":                    "token",
		"/admin/api/api/gql":                       "gql",
		"/admin/api/api/gql?x=1":                   "gql",
		"/admin/api/api/rest":                      "rest",
		"/admin/api/api/rest/core/extensions/1001": "rest",
		"/admin/api/api/graphql":                   "ajax", // declined by ajax.php: not a command of the api module
		"/admin/api/api/tokenx":                    "ajax",
		"/admin/api/api/authorize?client_id=abc":   "ajax",
		"/admin/api/api/resource":                  "ajax",
		"/admin/api/userman/x":                     "ajax",
		"/admin/ajax.php?module=core&command=x":    "ajax",
		"//admin/ajax.php":                         "ajax",
		"/ucp/ajax.php?module=home":                "ucp",
		"http://pbx/admin/api/api/gql":             "gql",
		"/admin/config.php":                        "other",
		"/admin/ajax.phpx":                         "other",
		"/ucp/index.php":                           "other",
		"/":                                        "other",
		"":                                         "other",
		`\x16\x03\x01`:                             "other",
	} {
		if got := classify([]byte(target)).String(); got != want {
			t.Errorf("classify(%q) = %s, want %s", target, got, want)
		}
	}
}

func TestClientIDOf(t *testing.T) {
	for target, want := range map[string]string{
		"/admin/api/api/authorize?response_type=code&client_id=9f86d081884c7d65&state=x": "9f86d081884c7d65",
		"/admin/api/api/authorize?client_id=":                                            "",
		"/admin/api/api/authorize?client_id=a%20b":                                       "",
		"/admin/api/api/token":                                                           "",
		"/admin/api/api/gql?my_client_id=abc":                                            "",
	} {
		if got := clientIDOf([]byte(target)); got != want {
			t.Errorf("clientIDOf(%q) = %q, want %q", target, got, want)
		}
	}
}
