package sdk

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/pbxwatch/pbxwatch/sdk/scrub"
)

// Secret holds a credential. It prints (with any verb), logs and marshals
// as "<secret>"; Reveal returns the value for the one place that must send
// it. The agent's own credentials (an Alertmanager's password) are Secrets
// too: one type, one behaviour.
type Secret string

const redacted = scrub.Redacted

// String returns "<secret>", so fmt's %s and %v never print the value.
func (s Secret) String() string { return redacted }

// GoString returns "<secret>", for %#v.
func (s Secret) GoString() string { return redacted }

// Format prints "<secret>" whatever the verb (%x or %q would otherwise
// encode the value itself).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue logs "<secret>" with any slog handler.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes "<secret>".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML encodes "<secret>".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// MarshalText encodes "<secret>" (encoding.TextMarshaler users, slog).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalText takes the value as it is (a YAML or JSON string).
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// LoadSecret resolves a secret configured either inline (`secret:`, which may
// be `${ENV}` expanded by the agent) or in a file (`secret_file:`). Exactly
// one must be set. A relative file path such as `secret_file: whmcs.secret`
// is looked up in systemd's $CREDENTIALS_DIRECTORY (LoadCredential=), then in
// the credentials directory the agent names in $PBXWATCH_CREDENTIALS_DIR
// (/etc/pbxwatch/credentials beside /etc/pbxwatch/pbxwatch.yaml), so the
// service and `sudo pbxwatch check` read the same file. An unreadable file's
// error names the user and the fix. Surrounding whitespace and the trailing
// newline of the file are trimmed. The value is registered so that Serve
// scrubs it from every result, error and log line the plugin sends.
func LoadSecret(name string, inline Secret, file string) (Secret, error) {
	switch {
	case inline != "" && file != "":
		return "", fmt.Errorf("%s and %s_file are both set: keep one", name, name)
	case inline != "":
		RegisterSecret(string(inline))
		return inline, nil
	case file == "":
		return "", fmt.Errorf("%s is missing: set %s_file (a file holding it) or %s", name, name, name)
	}
	b, path, err := readSecretFile(name, file)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(b)
	if v == "" {
		return "", fmt.Errorf("%s_file %s is empty", name, path)
	}
	RegisterSecret(v)
	return Secret(v), nil
}

// secrets is the plugin's one scrubbing boundary: Serve passes every
// result, error and log line through it.
var secrets scrub.Set

// RegisterSecret adds a value that must never leave the plugin: Serve
// replaces it with "<secret>" in results, errors and logs, in every encoding
// (see package scrub). Values shorter than 4 bytes are ignored, as
// scrubbing them would mangle ordinary text.
func RegisterSecret(v string) { secrets.Add(v) }

// Scrub replaces every registered secret in s, in any encoding, and every
// URL password with "<secret>".
func Scrub(s string) string { return secrets.String(s) }
