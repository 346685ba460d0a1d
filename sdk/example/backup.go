package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pbxwatch/pbxwatch/sdk"
)

// config is the check's `config:` block.
type config struct {
	Glob     string        `yaml:"glob"`
	MaxAge   time.Duration `yaml:"max_age"`
	MinBytes int64         `yaml:"min_bytes"`
}

// UnmarshalYAML applies defaults and validates. The func-style signature
// keeps sdk.Config.Decode strict about unknown keys.
func (c *config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = config{MaxAge: 26 * time.Hour}
	type plain config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	p := sdk.NewProblems(unmarshal)
	if c.Glob == "" {
		p.Add("glob", "glob is required: the backup files to look at, e.g. /var/spool/asterisk/backup/*/*.tar.gz")
	} else if _, err := filepath.Match(c.Glob, ""); err != nil {
		p.Add("glob", "glob %q: %v", c.Glob, err)
	}
	if c.MaxAge <= 0 {
		p.Add("max_age", "max_age must be positive, e.g. 26h for a daily backup")
	}
	if c.MinBytes < 0 {
		p.Add("min_bytes", "min_bytes cannot be negative")
	}
	return p.Err()
}

type backupCheck struct{ cfg config }

func (b *backupCheck) Configure(_ context.Context, cfg *sdk.Config) error {
	return cfg.Decode(&b.cfg)
}

func (b *backupCheck) Check(ctx context.Context) (*sdk.Result, error) {
	matches, err := filepath.Glob(b.cfg.Glob)
	if err != nil {
		return nil, err
	}
	newest, info := newestFile(matches)
	res := &sdk.Result{}
	if info == nil {
		res.Summary = "no backup file found"
		res.Diagnose(sdk.Diagnosis{
			Code: "backup.missing", Severity: sdk.SeverityCritical,
			Message: fmt.Sprintf("No file matches %s.", b.cfg.Glob),
			Remediation: []string{
				"Open Admin → Backup & Restore and check that a backup job is scheduled.",
				"Run the job once by hand and look at its log for errors.",
			},
			Details: map[string]string{"glob": b.cfg.Glob},
		})
		return res, nil
	}
	age := time.Since(info.ModTime())
	res.AddGauge("backup_last_timestamp_seconds", "Modification time of the newest backup file.", float64(info.ModTime().Unix()), nil)
	res.AddGauge("backup_size_bytes", "Size of the newest backup file.", float64(info.Size()), nil)
	res.Summary = fmt.Sprintf("newest backup %s is %s old, %d bytes", filepath.Base(newest), age.Round(time.Minute), info.Size())
	details := map[string]string{"file": newest, "modified": info.ModTime().UTC().Format(time.RFC3339)}
	if age > b.cfg.MaxAge {
		res.Diagnose(sdk.Diagnosis{
			Code: "backup.stale", Severity: sdk.SeverityCritical,
			Message:     fmt.Sprintf("The newest backup is %s old, older than max_age %s.", age.Round(time.Minute), b.cfg.MaxAge),
			Remediation: []string{"Check the backup job's schedule and its last run's log in Admin → Backup & Restore.", "Check free space on the backup target."},
			Details:     details,
		})
	}
	if info.Size() < b.cfg.MinBytes {
		res.Diagnose(sdk.Diagnosis{
			Code: "backup.too_small", Severity: sdk.SeverityWarning,
			Message:     fmt.Sprintf("The newest backup holds %d bytes, less than min_bytes %d: it may be empty or cut short.", info.Size(), b.cfg.MinBytes),
			Remediation: []string{"Open the archive and check it holds the expected modules.", "Look at the backup job's log for errors."},
			Details:     details,
		})
	}
	return res, nil
}

// newestFile returns the most recently modified regular file of paths.
func newestFile(paths []string) (string, os.FileInfo) {
	var best string
	var bestInfo os.FileInfo
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if bestInfo == nil || fi.ModTime().After(bestInfo.ModTime()) {
			best, bestInfo = p, fi
		}
	}
	return best, bestInfo
}
