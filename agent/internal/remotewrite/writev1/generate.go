// Package writev1 holds the Go types of Prometheus Remote-Write 1.0's
// protobuf messages, generated from the specification's proto.
package writev1

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative remote.proto
