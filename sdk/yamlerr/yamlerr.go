// Package yamlerr turns yaml.v3's decode errors into one problem per line,
// with the line number apart and wording an operator acts on. The agent's
// config loader and the SDK's plugin config decoder share it, so both
// speak alike.
package yamlerr

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"gopkg.in/yaml.v3"
)

// Problem is one decode problem. Line is 0 when yaml did not give one.
type Problem struct {
	Line int
	Msg  string
}

var (
	linePrefix = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\n\s*)?line (\d+): `)
	})
	unknownKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^field (\S+) not found in type .+$`) })
)

// Split returns the problems err holds.
func Split(err error) []Problem {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		p := Problem{Msg: m}
		if sub := linePrefix().FindStringSubmatch(m); sub != nil {
			p.Line, _ = strconv.Atoi(sub[1])
			p.Msg = m[len(sub[0]):]
		}
		p.Msg = reword(p.Msg)
		out = append(out, p)
	}
	return out
}

// reword replaces yaml's Go-centric wording ("field x not found in type
// main.plain") with what the operator must do.
func reword(msg string) string {
	if sub := unknownKey().FindStringSubmatch(msg); sub != nil {
		return fmt.Sprintf("unknown key %q: not a setting here (check its spelling and indentation)", sub[1])
	}
	return msg
}

func asTypeError(err error, te **yaml.TypeError) bool { return errors.As(err, te) }
