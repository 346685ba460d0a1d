package whmcssim

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
)

// Recorded answers: what WHMCS's includes/api.php and the layers in front
// of it (CDN, WAF, bot protection, web server) answer, one JSON file each in
// answers/, with the diagnosis the whmcs check must give. The simulator
// serves answer <name> literally under /answer/<name>/; a new case is a new
// file. They are written from the products' documented behaviour and the
// short strings that identify their pages, not copied from captures.
//
//go:embed answers/*.json
var answerFiles embed.FS

// Answer is one recorded answer and its expected diagnosis.
type Answer struct {
	Name  string `json:"-"`
	About string `json:"about"`
	// Action, when set, is the one API action that gets this answer; the
	// others are answered by a healthy install. Empty: every API call.
	Action  string            `json:"action"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	// BodyBase64 is the body when it is not valid UTF-8 (JSON cannot
	// hold it as a string).
	BodyBase64 string `json:"body_base64"`
	// Cause is what the answer means, for the table in docs/diagnoses.md.
	Cause string `json:"cause"`
	// Expect is the diagnosis code the check must report ("OK": none).
	Expect string `json:"expect"`
	// ExpectDetails must appear among the diagnosis' details.
	ExpectDetails map[string]string `json:"expect_details"`
	// ExpectMention must appear in the diagnosis' message.
	ExpectMention []string `json:"expect_mention"`
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
			panic(fmt.Sprintf("whmcssim: answers/%s: %v", e.Name(), err))
		}
		if a.Status == 0 || a.Expect == "" || a.About == "" {
			panic(fmt.Sprintf("whmcssim: answers/%s: about, status and expect are required", e.Name()))
		}
		if a.BodyBase64 != "" {
			raw, err := base64.StdEncoding.DecodeString(a.BodyBase64)
			if err != nil {
				panic(fmt.Sprintf("whmcssim: answers/%s: body_base64: %v", e.Name(), err))
			}
			a.Body = string(raw)
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

// answerScenario serves recorded answer a for API calls (all, or a.Action's)
// and behaves as a healthy install otherwise.
func answerScenario(a *Answer) *scenario {
	return &scenario{name: "answer/" + a.Name, about: a.About, front: func(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
		if strings.TrimPrefix(r.URL.Path, base) != "includes/api.php" {
			return false
		}
		if a.Action != "" {
			_ = r.ParseForm()
			if !strings.EqualFold(r.Form.Get("action"), a.Action) {
				return false
			}
		}
		for k, v := range a.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.Status)
		_, _ = w.Write([]byte(a.Body))
		return true
	}}
}
