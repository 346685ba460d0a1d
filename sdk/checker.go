// Package sdk is the public SDK for pbxwatch check plugins.
//
// A plugin is a separate program. Its author implements Checker and calls
// Serve from main; the transport (hashicorp/go-plugin over gRPC, the
// handshake, protocol versions and mutual TLS) stays hidden:
//
//	func main() { sdk.Serve(&myChecker{}) }
//
// The agent starts one long-lived process per plugin binary; for each
// configured check the SDK makes its own Checker (a copy of the value given
// to Serve), calls Configure once with the check's config, then Check on
// every scheduled run. Checks of one plugin run concurrently in that
// process, each on its own Checker. A check with `isolate: true` gets a
// process of its own.
package sdk

import "context"

// Checker is the one interface a plugin author implements.
type Checker interface {
	// Configure decodes and validates the check's own `config:` block, and
	// keeps what Check needs. It runs once per check instance, before any
	// Check, and also when `pbxwatch validate` or a reload vets a config, so
	// it must not contact remote systems or write state. Return every
	// problem found (errors.Join), each saying how to fix it.
	Configure(ctx context.Context, cfg *Config) error

	// Check runs the check once. ctx carries the run's deadline: honour it.
	// An error means the check could not decide and becomes an UNKNOWN
	// result with the error as its summary; a failure of the monitored
	// system belongs in the Result as a diagnosis instead.
	Check(ctx context.Context) (*Result, error)
}
