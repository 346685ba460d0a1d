// Package facts is what `pbxwatch-plugin-freepbx detect` tells `pbxwatch
// init` about a FreePBX host's database, as JSON on the plugin's standard
// output. It links no database driver: the agent reads these facts, the
// freepbx plugin (through package freepbxdb) finds them (docs/design.md,
// "Where init's FreePBX look-up runs").
package facts

// ConfPath is where FreePBX keeps its database settings.
const ConfPath = "/etc/freepbx.conf"

// Facts is what the freepbx plugin read. No field ever holds a credential:
// not the database password, not a client secret or its hash.
type Facts struct {
	// ConfError says why ConfPath could not be read or parsed ("" when it
	// was); ConfMissing is set when it does not exist at all.
	ConfError   string `json:"conf_error,omitempty"`
	ConfMissing bool   `json:"conf_missing,omitempty"`
	// Database is where ConfPath says the database is (nil when unread).
	Database *Database `json:"database,omitempty"`
	// DatabaseError says why the database could not be read ("" when it
	// was, or when ConfPath was not readable); DatabaseRead is set once
	// every query below succeeded.
	DatabaseError string `json:"database_error,omitempty"`
	DatabaseRead  bool   `json:"database_read"`
	// Framework is FreePBX's framework module: its version is FreePBX's.
	Framework Module `json:"framework"`
	// API is the api module (Connectivity → API).
	API Module `json:"api"`
	// Settings are the Advanced Settings asked for (FPBX_LOG_FILE,
	// AMPSYSLOGLEVEL, AMPWEBROOT, AMPASTERISKWEBUSER), those present.
	Settings map[string]string `json:"settings,omitempty"`
	// Applications are the api module's applications (read only when it
	// is installed).
	Applications []Application `json:"applications,omitempty"`
}

// SettingKeys are the Advanced Settings init asks for.
var SettingKeys = []string{"FPBX_LOG_FILE", "AMPSYSLOGLEVEL", "AMPWEBROOT", "AMPASTERISKWEBUSER"}

// Database is where FreePBX's database is, without the credentials.
type Database struct {
	Name   string `json:"name"`
	Host   string `json:"host,omitempty"`
	Port   string `json:"port,omitempty"`
	Socket string `json:"socket,omitempty"`
}

// Where is the database's socket or address, for people.
func (d Database) Where() string {
	switch {
	case d.Socket != "":
		return "socket " + d.Socket
	case d.Port != "":
		return d.Host + ":" + d.Port
	}
	return d.Host
}

// Module is a row of FreePBX's modules table.
type Module struct {
	Installed bool   `json:"installed"` // a row exists
	Enabled   bool   `json:"enabled"`
	Version   string `json:"version,omitempty"`
	// AcceptsAnySecret is set for an api module with CVE-2026-44237
	// (17.x before FixedAPIVersion validates no client secret).
	AcceptsAnySecret bool `json:"accepts_any_secret,omitempty"`
}

// FixedAPIVersion is the first api module release without CVE-2026-44237.
const FixedAPIVersion = "17.0.8"

// Application is an api module application, without its secret.
type Application struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	GrantType string `json:"grant_type"` // client_credentials: Machine-to-Machine
	ClientID  string `json:"client_id"`
	// Scopes are the scopes a token gets without asking for any.
	Scopes []string `json:"scopes"`
}

// MachineToMachine reports whether the application is a
// Machine-to-Machine one (OAuth2 client credentials).
func (a Application) MachineToMachine() bool { return a.GrantType == "client_credentials" }
