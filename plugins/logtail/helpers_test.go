package logtail

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// These write FreePBX lines for the checker tests; internal/tailfile's own
// tests have their twins for the reading itself.

func logLine(n int) string {
	return fmt.Sprintf("[2024-05-01 10:00:00] [freepbx.INFO]: line %d [] []\n", n)
}

func appendLines(t testing.TB, path string, from, to int) {
	t.Helper()
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(logLine(i))
	}
	appendRaw(t, path, b.String())
}

func appendRaw(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
