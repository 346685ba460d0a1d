package freepbxsim

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
)

// Recorded answers: what FreePBX's API module, its framework and the layers
// in front of FreePBX (CDN, WAF, proxy, web server) answer to the token or
// GraphQL request, one JSON file each in answers/, with the diagnosis the
// freepbx check must give. Client id "answer.<name>" selects one: the
// simulator serves it literally at its endpoint and behaves as a healthy
// FreePBX otherwise (a token with Scopes for GraphQL answers). A new case
// is a new file. They are written from the source of FreePBX/api and
// FreePBX/framework and the products' documented behaviour, not copied
// from captures.
//
//go:embed answers/*.json
var answerFiles embed.FS

// Reply is one literal HTTP answer.
type Reply struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// Answer is one recorded answer and its expected diagnosis.
type Answer struct {
	Name  string `json:"-"`
	About string `json:"about"`
	// Cause is what the answer means, for the table in docs/diagnoses.md.
	Cause string `json:"cause"`
	// Endpoint is "token" or "gql": where the answer is served.
	Endpoint string `json:"endpoint"`
	// Scopes the token gets when Endpoint is gql; default gql.
	Scopes []string `json:"scopes"`
	Reply
	// Ajax, when set, answers GET /admin/ajax.php?module=api&command=token
	// (the check's follow-up after a 404); otherwise FreePBX answers there.
	Ajax *Reply `json:"ajax"`
	// Expect is the diagnosis code the check must report ("OK": none).
	Expect        string            `json:"expect"`
	ExpectDetails map[string]string `json:"expect_details"`
	ExpectMention []string          `json:"expect_mention"`
	// ExpectNotMention must not appear in the diagnosis' message.
	ExpectNotMention []string `json:"expect_not_mention"`
}

var answers = func() map[string]*Answer {
	entries, err := answerFiles.ReadDir("answers")
	if err != nil {
		panic(err)
	}
	m := map[string]*Answer{}
	for _, e := range entries {
		b, err := answerFiles.ReadFile("answers/" + e.Name())
		if err != nil {
			panic(err)
		}
		var a Answer
		if err := json.Unmarshal(b, &a); err != nil {
			panic(fmt.Sprintf("freepbxsim: answers/%s: %v", e.Name(), err))
		}
		if a.Status == 0 || a.Expect == "" || a.About == "" || (a.Endpoint != "token" && a.Endpoint != "gql") {
			panic(fmt.Sprintf("freepbxsim: answers/%s: about, status, expect and endpoint (token or gql) are required", e.Name()))
		}
		if len(a.Scopes) == 0 {
			a.Scopes = []string{"gql"}
		}
		a.Name = strings.TrimSuffix(e.Name(), path.Ext(e.Name()))
		m[a.Name] = &a
	}
	return m
}()

// Answers lists the recorded answers, sorted by name.
func Answers() []Answer {
	out := make([]Answer, 0, len(answers))
	for _, a := range answers {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (rp Reply) write(w http.ResponseWriter) {
	for k, v := range rp.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rp.Status)
	_, _ = w.Write([]byte(rp.Body))
}

// serveAnswer answers r from recorded answer a when r is its endpoint (or
// the ajax.php follow-up it has a reply for).
func serveAnswer(w http.ResponseWriter, r *http.Request, a *Answer, command string) bool {
	switch {
	case r.URL.Path == "/admin/ajax.php" && r.Method == http.MethodGet && a.Ajax != nil:
		a.Ajax.write(w)
		return true
	case command == a.Endpoint && r.URL.Path != "/admin/ajax.php":
		a.Reply.write(w)
		return true
	}
	return false
}
