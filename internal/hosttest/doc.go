// Package hosttest holds the tests of sdk/pluginhost that run this
// repository's test plugins (internal/testplugins), which live outside the
// SDK module.
package hosttest
