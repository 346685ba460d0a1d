package freepbx

import (
	"path/filepath"

	"github.com/go-sql-driver/mysql"

	"github.com/pbxwatch/pbxwatch/internal/freepbxdb"
	"github.com/pbxwatch/pbxwatch/sdk"
)

// Defaults of the server-side look-up, as FreePBX installs itself.
const (
	defaultKeysDir = "/etc/asterisk/keys"
	defaultWebUser = "asterisk"
)

// serverSideOn reports whether the check reads FreePBX's database.
func (c *config) serverSideOn() bool { return c.FreePBXConf != "" || c.DatabaseDSN != "" }

func (c *config) validateServerSide(p *sdk.Problems) {
	if c.FreePBXConf != "" && c.DatabaseDSN != "" {
		p.Add("database_dsn", "freepbx_conf and database_dsn are both set: keep one (freepbx_conf on the FreePBX host, database_dsn for a database elsewhere)")
	}
	if c.FreePBXConf != "" && !filepath.IsAbs(c.FreePBXConf) {
		p.Add("freepbx_conf", "freepbx_conf must be an absolute path, normally /etc/freepbx.conf")
	}
	if c.DatabaseDSN != "" {
		// The driver's error may quote the DSN: say what is wrong without it.
		if _, err := mysql.ParseDSN(c.DatabaseDSN.Reveal()); err != nil {
			p.Add("database_dsn", "database_dsn is not a Go MySQL DSN; write user@unix(/run/mysqld/mysqld.sock)/asterisk or user@tcp(db.example.com:3306)/asterisk, the password in database_password_file")
		}
	}
	if c.DatabasePasswordFile != "" && c.DatabaseDSN == "" {
		p.Add("database_password_file", "database_password_file goes with database_dsn; with freepbx_conf the password comes from that file")
	}
	for _, k := range []struct{ key, val string }{{"keys_dir", c.KeysDir}, {"web_user", c.WebUser}} {
		if k.val != "" && !c.serverSideOn() {
			p.Add(k.key, "%s is used by the server-side look-up only: set freepbx_conf (or database_dsn) too", k.key)
		}
	}
	if c.KeysDir != "" && !filepath.IsAbs(c.KeysDir) {
		p.Add("keys_dir", "keys_dir must be an absolute path, normally %s", defaultKeysDir)
	}
}

// loadServerSecrets registers every database credential with the SDK's
// scrubber and resolves database_password_file.
func (c *config) loadServerSecrets(p *sdk.Problems) {
	if c.DatabaseDSN == "" {
		return
	}
	sdk.RegisterSecret(c.DatabaseDSN.Reveal())
	if cfg, err := mysql.ParseDSN(c.DatabaseDSN.Reveal()); err == nil {
		sdk.RegisterSecret(cfg.Passwd)
	}
	// The password reaches scrubSecrets through Source.OnSecret.
	if c.DatabasePasswordFile == "" {
		return
	}
	pw, err := sdk.LoadSecret("database_password", "", c.DatabasePasswordFile)
	if err != nil {
		p.Add("database_password_file", "%v", err)
		return
	}
	c.databasePassword = pw
}

// source is where the look-up finds the database.
func (c *config) source() freepbxdb.Source {
	return freepbxdb.Source{ConfPath: c.FreePBXConf, DSN: c.DatabaseDSN.Reveal(), Password: c.databasePassword.Reveal()}
}

// configureServerSide puts the token tap in front of the check's
// transport.
func (c *checker) configureServerSide() {
	c.tap = &tokenTap{base: c.client.Transport, tokenURL: c.cfg.TokenURL}
	c.client.Transport = c.tap
}
