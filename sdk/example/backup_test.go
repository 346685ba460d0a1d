package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
	"github.com/pbxwatch/pbxwatch/sdk/sdktest"
)

// The example is tested the way every plugin should be: through its real
// binary and the real transport, with sdktest.

func start(t *testing.T, cfg string) (*sdktest.Plugin, error) {
	bin := sdktest.Build(t, "github.com/pbxwatch/pbxwatch/sdk/example")
	return sdktest.Start(t, bin, sdktest.Options{Config: cfg})
}

func TestFreshBackupIsOK(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b.tar.gz"), make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := start(t, "glob: "+dir+"/*.tar.gz\nmin_bytes: 1024\n")
	if err != nil {
		t.Fatal(err)
	}
	res := p.Check(context.Background())
	if res.Status != sdk.StatusOK || len(res.Diagnoses) != 0 {
		t.Fatalf("%v %q %+v", res.Status, res.Summary, res.Diagnoses)
	}
	if len(res.Metrics) != 2 || res.Metrics[1].Value != 2048 {
		t.Fatalf("metrics %+v", res.Metrics)
	}
}

func TestStaleAndSmallBackup(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "b.tar.gz")
	if err := os.WriteFile(f, []byte("tiny"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(f, old, old); err != nil {
		t.Fatal(err)
	}
	p, err := start(t, "glob: "+dir+"/*.tar.gz\nmin_bytes: 1024\n")
	if err != nil {
		t.Fatal(err)
	}
	res := p.Check(context.Background())
	if res.Status != sdk.StatusCritical || len(res.Diagnoses) != 2 || res.Diagnoses[0].Code != "backup.stale" || res.Diagnoses[1].Code != "backup.too_small" {
		t.Fatalf("%v %+v", res.Status, res.Diagnoses)
	}
}

func TestMissingBackup(t *testing.T) {
	p, err := start(t, "glob: "+t.TempDir()+"/*.tar.gz\n")
	if err != nil {
		t.Fatal(err)
	}
	res := p.Check(context.Background())
	if res.Status != sdk.StatusCritical || res.Diagnoses[0].Code != "backup.missing" {
		t.Fatalf("%v %+v", res.Status, res.Diagnoses)
	}
}

func TestConfigErrorsNameTheLine(t *testing.T) {
	_, err := start(t, "max_age: -1h\nglobb: x\n")
	if err == nil || !sdktest.IsConfigError(err) || !strings.Contains(err.Error(), "config:2: unknown key \"globb\"") {
		t.Fatalf("err = %v", err)
	}
	_, err = start(t, "max_age: -1h\n")
	if err == nil || !strings.Contains(err.Error(), "glob is required") || !strings.Contains(err.Error(), "max_age must be positive") {
		t.Fatalf("err = %v", err)
	}
}
