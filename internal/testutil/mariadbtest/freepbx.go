package mariadbtest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// FreePBXSchema is the DDL FreePBX 16 or 17 runs for the tables pbxwatch
// reads: the framework's modules and freepbx_settings, and the api
// module's tables from its module.xml <database> block as Doctrine DBAL
// creates them (integer → INT, string → VARCHAR(length), text → LONGTEXT,
// blob → LONGBLOB). FreePBX 16 creates utf8 tables, 17 utf8mb4; 17's
// transaction history lost event_output.
func FreePBXSchema(version int) []string {
	charset := "DEFAULT CHARACTER SET utf8mb4 COLLATE `utf8mb4_unicode_ci` ENGINE = InnoDB"
	history := "event_output VARCHAR(255) DEFAULT '' NOT NULL, "
	if version < 17 {
		charset = "DEFAULT CHARACTER SET utf8 COLLATE `utf8_unicode_ci` ENGINE = InnoDB"
	} else {
		history = ""
	}
	return []string{
		"CREATE TABLE modules (id INT AUTO_INCREMENT NOT NULL, modulename VARCHAR(50) DEFAULT '' NOT NULL, version VARCHAR(20) DEFAULT '' NOT NULL, enabled TINYINT(1) DEFAULT 0 NOT NULL, signature LONGBLOB DEFAULT NULL, PRIMARY KEY(id)) " + charset,
		"CREATE TABLE freepbx_settings (keyword VARCHAR(50) DEFAULT '' NOT NULL, value VARCHAR(255) DEFAULT NULL, name VARCHAR(80) DEFAULT NULL, level TINYINT(1) DEFAULT 0, description LONGTEXT DEFAULT NULL, type VARCHAR(25) DEFAULT NULL, options LONGTEXT DEFAULT NULL, defaultval VARCHAR(255) DEFAULT NULL, readonly TINYINT(1) DEFAULT 0, hidden TINYINT(1) DEFAULT 0, category VARCHAR(50) DEFAULT NULL, module VARCHAR(25) DEFAULT NULL, emptyok TINYINT(1) DEFAULT 1, sortorder INT DEFAULT 0, PRIMARY KEY(keyword)) " + charset,
		"CREATE TABLE api_applications (id INT UNSIGNED AUTO_INCREMENT NOT NULL, owner INT DEFAULT NULL, name VARCHAR(50) DEFAULT '' NOT NULL, description LONGTEXT DEFAULT NULL, grant_type VARCHAR(20) DEFAULT '' NOT NULL, client_id VARCHAR(128) DEFAULT '' NOT NULL, client_secret VARCHAR(64) DEFAULT NULL, redirect_uri VARCHAR(150) DEFAULT NULL, website VARCHAR(150) DEFAULT NULL, algo VARCHAR(10) DEFAULT NULL, allowed_scopes LONGTEXT DEFAULT NULL, UNIQUE INDEX client_id (client_id), PRIMARY KEY(id)) " + charset,
		"CREATE TABLE api_access_tokens (token VARCHAR(80) DEFAULT '' NOT NULL, aid INT UNSIGNED NOT NULL, expiry INT NOT NULL, scopes LONGBLOB NOT NULL, uid INT DEFAULT NULL, ip_address VARCHAR(80) DEFAULT '' NOT NULL, last_accessed INT NOT NULL, PRIMARY KEY(token)) " + charset,
		"CREATE TABLE api_auth_codes (code VARCHAR(80) DEFAULT '' NOT NULL, aid INT UNSIGNED NOT NULL, expiry INT NOT NULL, scopes LONGBLOB NOT NULL, uid INT DEFAULT NULL, ip_address VARCHAR(80) DEFAULT '' NOT NULL, last_accessed INT NOT NULL, PRIMARY KEY(code)) " + charset,
		"CREATE TABLE api_refresh_tokens (token VARCHAR(80) DEFAULT '' NOT NULL, access_token VARCHAR(80) DEFAULT '' NOT NULL, expiry INT NOT NULL, ip_address VARCHAR(80) DEFAULT '' NOT NULL, last_accessed INT NOT NULL, PRIMARY KEY(token)) " + charset,
		"CREATE TABLE api_asynchronous_transaction_history (txn_id INT UNSIGNED AUTO_INCREMENT NOT NULL, module_name VARCHAR(80) DEFAULT '' NOT NULL, event_name VARCHAR(80) DEFAULT '' NOT NULL, event_status VARCHAR(10) DEFAULT 'Processing' NOT NULL, failure_reason VARCHAR(255) DEFAULT '' NOT NULL, process_start_time INT NOT NULL, process_end_time INT DEFAULT NULL, " + history + "PRIMARY KEY(txn_id)) " + charset,
	}
}

// FreePBX is the content of one simulated FreePBX database.
type FreePBX struct {
	Version          int    // 16 or 17: the schema
	FrameworkVersion string // modules row "framework"; default 16.0.40 / 17.0.19
	// APIVersion is the api module's modules row; "" means no row (not
	// installed). APIDisabled sets enabled = 0.
	APIVersion  string
	APIDisabled bool
	Settings    map[string]string // freepbx_settings keyword → value
	Apps        []App
}

// App is a row of api_applications. Secret is the plain client secret;
// the row stores it hashed by MariaDB's own SHA2/SHA1/MD5, as PHP's
// hash(algo) would.
type App struct {
	Name, GrantType, ClientID, Secret string
	Algo                              string // sha256 (default), sha512, sha1 or md5
	AllowedScopes                     string // space-separated; "" = all
	Owner                             int    // 0 = an admin application (NULL)
}

var sqlHash = map[string]string{"sha256": "SHA2(?, 256)", "sha512": "SHA2(?, 512)", "sha384": "SHA2(?, 384)", "sha224": "SHA2(?, 224)", "sha1": "SHA1(?)", "md5": "MD5(?)"}

// LoadFreePBX creates FreePBX's tables in db and fills them.
func (s *Server) LoadFreePBX(t testing.TB, db string, f FreePBX) {
	t.Helper()
	d := s.DB(db)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", firstLine(q), err)
		}
	}
	for _, st := range FreePBXSchema(f.Version) {
		exec(st)
	}
	fw := f.FrameworkVersion
	if fw == "" {
		fw = map[bool]string{true: "17.0.19", false: "16.0.40"}[f.Version >= 17]
	}
	exec("INSERT INTO modules (modulename, version, enabled) VALUES ('framework', ?, 1), ('core', ?, 1)", fw, fw)
	if f.APIVersion != "" {
		exec("INSERT INTO modules (modulename, version, enabled) VALUES ('api', ?, ?)", f.APIVersion, !f.APIDisabled)
	}
	for k, v := range f.Settings {
		exec("INSERT INTO freepbx_settings (keyword, value, module, emptyok) VALUES (?, ?, '', 1)", k, v)
	}
	for _, a := range f.Apps {
		algo := a.Algo
		if algo == "" {
			algo = "sha256"
		}
		h, ok := sqlHash[algo]
		if !ok {
			t.Fatalf("mariadbtest: no SQL hash for algo %q", algo)
		}
		var owner any
		if a.Owner != 0 {
			owner = a.Owner
		}
		var scopes any
		if a.AllowedScopes != "" {
			scopes = a.AllowedScopes
		}
		exec(fmt.Sprintf("INSERT INTO api_applications (owner, name, description, grant_type, client_id, client_secret, algo, allowed_scopes) VALUES (?, ?, '', ?, ?, %s, ?, ?)", h),
			owner, a.Name, a.GrantType, a.ClientID, a.Secret, algo, scopes)
	}
}

// AddToken inserts an api_access_tokens row as AccessTokens::add does
// (scopes JSON-encoded) for the application with clientID. It may be called
// from any goroutine (a simulator's handler).
func (s *Server) AddToken(db, clientID, jti string, scopes []string, expiry, lastAccessed time.Time) error {
	js, _ := json.Marshal(scopes)
	res, err := s.DB(db).Exec("INSERT INTO api_access_tokens (token, aid, expiry, scopes, uid, ip_address, last_accessed) SELECT ?, id, ?, ?, NULL, '127.0.0.1', ? FROM api_applications WHERE client_id = ?",
		jti, expiry.Unix(), js, lastAccessed.Unix(), clientID)
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("insert token: no application with client id %s", clientID)
	}
	return nil
}
