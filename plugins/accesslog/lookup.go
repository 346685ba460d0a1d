package accesslog

import (
	"context"
	"path/filepath"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// appLookup names the FreePBX API applications of the client ids a run's
// diagnoses show, from FreePBX's database (internal/freepbxdb, the same
// read-only access the freepbx check uses). It connects only when a
// diagnosis has a client id to name, once per run, and caches per run:
// an application renamed or deleted shows so on the next run.
type appLookup struct {
	src   freepbxdb.Source
	db    *freepbxdb.DB
	err   error
	names map[string]string
}

func (l *appLookup) name(ctx context.Context, clientID string) (string, error) {
	if n, ok := l.names[clientID]; ok {
		return n, nil
	}
	if l.db == nil && l.err == nil {
		l.db, l.err = l.src.Open(ctx)
	}
	if l.err != nil {
		return "", l.err
	}
	app, err := l.db.ApplicationByClientID(ctx, clientID)
	if err != nil {
		return "", err
	}
	name := ""
	if app != nil {
		name = app.Name
	}
	if l.names == nil {
		l.names = map[string]string{}
	}
	l.names[clientID] = name
	return name, nil
}

func (l *appLookup) close() {
	if l != nil && l.db != nil {
		l.db.Close()
	}
}

// lookupOn says whether the database look-up is configured.
func (c *config) lookupOn() bool { return c.FreePBXConf != "" || c.DatabaseDSN != "" }

// validateLookup checks the look-up keys (lines as in validate).
func (c *config) validateLookup(at func(key, format string, args ...any)) {
	if c.FreePBXConf != "" && c.DatabaseDSN != "" {
		at("database_dsn", "freepbx_conf and database_dsn are both set: keep one (freepbx_conf on the FreePBX host, database_dsn for a database elsewhere)")
	}
	if c.FreePBXConf != "" && !filepath.IsAbs(c.FreePBXConf) {
		at("freepbx_conf", "freepbx_conf must be an absolute path, normally /etc/freepbx.conf")
	}
	if c.DatabasePasswordFile != "" && c.DatabaseDSN == "" {
		at("database_password_file", "database_password_file goes with database_dsn (freepbx_conf has its own password)")
	}
}

// lookupSource loads the database password (a *_file key, or none) and
// returns where the database is.
func (c *config) lookupSource() (freepbxdb.Source, error) {
	src := freepbxdb.Source{ConfPath: c.FreePBXConf, DSN: c.DatabaseDSN.Reveal(), OnSecret: sdk.RegisterSecret}
	if c.DatabaseDSN != "" {
		sdk.RegisterSecret(c.DatabaseDSN.Reveal())
	}
	if c.DatabasePasswordFile != "" {
		pw, err := sdk.LoadSecret("database_password", "", c.DatabasePasswordFile)
		if err != nil {
			return src, err
		}
		src.Password = pw.Reveal()
	}
	return src, nil
}

// addApplication names the application of a client id seen in the log:
// details client_id always, application when the look-up found it, and
// application_lookup when it could not be done (the error never holds the
// password).
func (c *checker) addApplication(ctx context.Context, details map[string]string, clientID string) {
	if clientID == "" {
		return
	}
	details["client_id"] = clientID
	if c.lookup == nil {
		return
	}
	name, err := c.lookup.name(ctx, clientID)
	switch {
	case err != nil:
		details["application_lookup"] = "failed: " + err.Error()
	case name == "":
		details["application"] = "(none: no api application has this client id)"
	default:
		details["application"] = name
	}
}
