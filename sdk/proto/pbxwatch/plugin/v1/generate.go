package pluginv1

//go:generate protoc -I ../../.. --go_out=../../.. --go_opt=paths=source_relative --go-grpc_out=../../.. --go-grpc_opt=paths=source_relative ../../../pbxwatch/plugin/v1/plugin.proto
