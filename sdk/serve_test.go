package sdk

import (
	"context"
	"errors"
	"testing"

	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// counter keeps per-check state in its fields, as a plugin author would.
type counter struct {
	name string
	runs int
}

func (c *counter) Configure(_ context.Context, cfg *Config) error {
	if cfg.CheckName == "bad" {
		return errors.New("bad check")
	}
	c.name = cfg.CheckName
	return nil
}

func (c *counter) Check(context.Context) (*Result, error) {
	c.runs++
	return &Result{Summary: c.name + " " + string(rune('0'+c.runs))}, nil
}

func TestEachInstanceGetsItsOwnCheckerCopiedFromThePrototype(t *testing.T) {
	proto := &counter{}
	s := newServer(proto)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if resp, err := s.Configure(ctx, &pluginv1.ConfigureRequest{CheckName: name, Instance: name + "#1"}); err != nil || len(resp.GetErrors()) > 0 {
			t.Fatalf("configure %s: %v %v", name, err, resp.GetErrors())
		}
	}
	check := func(instance string) string {
		resp, err := s.Check(ctx, &pluginv1.CheckRequest{Instance: instance})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetSummary() + resp.GetError()
	}
	if got := check("a#1") + "," + check("a#1") + "," + check("b#1"); got != "a 1,a 2,b 1" {
		t.Fatalf("runs = %q: instances share state", got)
	}
	if proto.name != "" || proto.runs != 0 {
		t.Fatalf("the prototype was used: %+v", proto)
	}
	if _, err := s.Forget(ctx, &pluginv1.ForgetRequest{Instance: "a#1"}); err != nil {
		t.Fatal(err)
	}
	if got := check("a#1"); got != "the plugin has no configured instance a#1" {
		t.Fatalf("a forgotten instance ran: %q", got)
	}
	// A rejected instance is not kept; protocol 1 (no instance) uses the
	// prototype itself.
	resp, _ := s.Configure(ctx, &pluginv1.ConfigureRequest{CheckName: "bad", Instance: "bad#1"})
	if len(resp.GetErrors()) == 0 || len(s.instances) != 1 {
		t.Fatalf("rejected instance: errors %v, instances %d", resp.GetErrors(), len(s.instances))
	}
	if _, err := s.Configure(ctx, &pluginv1.ConfigureRequest{CheckName: "single"}); err != nil || check("") != "single 1" || proto.name != "single" {
		t.Fatalf("protocol 1: %v %+v", err, proto)
	}
}
