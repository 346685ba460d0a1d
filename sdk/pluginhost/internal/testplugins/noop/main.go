// Command noop is the cheapest possible plugin: every run returns OK at
// once. Benchmarks use it to measure what the agent adds to a check.
package main

import (
	"context"

	"github.com/pbxwatch/pbxwatch/sdk"
)

type checker struct{}

func (checker) Configure(context.Context, *sdk.Config) error { return nil }

func (checker) Check(context.Context) (*sdk.Result, error) {
	res := &sdk.Result{Status: sdk.StatusOK, Summary: "ok"}
	res.AddGauge("noop_value", "A constant.", 1, map[string]string{"kind": "bench"})
	return res, nil
}

func main() { sdk.Serve(checker{}) }
