// Command noisy is a broken test plugin: it writes to stdout before its
// handshake, as a plugin with a stray print in init or main would.
package main

import (
	"context"
	"fmt"

	"github.com/pbxwatch/pbxwatch/sdk"
)

type checker struct{}

func (checker) Configure(context.Context, *sdk.Config) error { return nil }
func (checker) Check(context.Context) (*sdk.Result, error)   { return &sdk.Result{}, nil }

func main() {
	fmt.Println("starting my plugin v1.2")
	sdk.Serve(checker{})
}
