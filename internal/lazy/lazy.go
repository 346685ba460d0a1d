// Package lazy builds package-level values on first use instead of at
// package initialisation.
//
// pbxwatch is one multi-call binary: the agent and every bundled plugin
// run the initialisers of every package linked into it, so a regular
// expression a package compiles into a package-level variable costs heap
// in all six kinds of process, though only the one process that uses it
// ever matches with it. A variable built by this package costs a few
// dozen bytes until its first use (docs/design.md, "Package initialisers
// run in every process").
package lazy

import (
	"regexp"
	"sync"
)

// Regexp returns a function that compiles expr on its first call, from
// whichever goroutine, and returns that one *regexp.Regexp on every call.
// Like regexp.MustCompile it panics if expr does not compile: meant for
// the fixed expressions of our own code, which the tests compile, never
// for user-supplied patterns, which must be compiled (and their errors
// reported) where the configuration is loaded.
func Regexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
