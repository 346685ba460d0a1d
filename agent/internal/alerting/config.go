package alerting

// Placeholder until the alerting package lands: the config shapes the
// daemon's config package decodes.

// Config is the top-level `alerting:` block.
type Config struct {
	Alertmanagers  []map[string]any  `yaml:"alertmanagers"`
	ResendInterval string            `yaml:"resend_interval"`
	ExternalLabels map[string]string `yaml:"external_labels"`
}

// CheckAlert is a check's `alert:` block.
type CheckAlert struct {
	For        string            `yaml:"for"`
	Severity   string            `yaml:"severity"`
	Labels     map[string]string `yaml:"labels"`
	RunbookURL string            `yaml:"runbook_url"`
}
