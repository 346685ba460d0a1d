package yamlerr

import (
	"bytes"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSplitRewordsUnknownKeysAndKeepsLines(t *testing.T) {
	var v struct {
		A int `yaml:"a"`
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte("a: x\nb: 1\n")))
	dec.KnownFields(true)
	got := Split(dec.Decode(&v))
	want := []Problem{
		{1, "cannot unmarshal !!str `x` into int"},
		{2, `unknown key "b": not a setting here (check its spelling and indentation)`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("problem %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSplitSyntaxError(t *testing.T) {
	var v any
	got := Split(yaml.Unmarshal([]byte("a: [\n"), &v))
	if len(got) != 1 || got[0].Line == 0 || got[0].Msg == "" {
		t.Fatalf("got %+v", got)
	}
}
