package freepbxdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Source says where FreePBX's database is: a freepbx.conf, or a Go MySQL
// DSN (github.com/go-sql-driver/mysql format) for a database elsewhere.
type Source struct {
	ConfPath string // e.g. /etc/freepbx.conf
	DSN      string // instead of ConfPath
	// Password replaces the DSN's password (read from a *_file key).
	Password string
	// Root is prefixed to ConfPath and the default socket paths
	// (pbxwatch init --root); "" is /.
	Root string
	// Timeout bounds connecting and each query; default 5s.
	Timeout time.Duration
	// OnSecret, when set, is called with every credential Open reads
	// (the password from freepbx.conf or the DSN), so a plugin can
	// register it with its scrubber before anything could print it.
	OnSecret func(string)
}

// DB is FreePBX's database, opened read-only by convention: this package
// only ever sends SELECT statements.
type DB struct {
	db      *sql.DB
	Name    string // the database (schema) name
	Where   string // host, socket or address, for messages
	User    string
	timeout time.Duration
}

// Open connects and pings. Errors never contain the password.
func (s Source) Open(ctx context.Context) (*DB, error) {
	cfg, err := s.mysqlConfig()
	if err != nil {
		return nil, err
	}
	if s.OnSecret != nil && cfg.Passwd != "" {
		s.OnSecret(cfg.Passwd)
	}
	if s.Timeout == 0 {
		s.Timeout = 5 * time.Second
	}
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = s.Timeout, s.Timeout, s.Timeout
	cfg.ParseTime = false
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %v", err)
	}
	d := &DB{db: sql.OpenDB(connector), Name: cfg.DBName, Where: cfg.Addr, User: cfg.User, timeout: s.Timeout}
	d.db.SetMaxOpenConns(2)
	d.db.SetConnMaxLifetime(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	if err := d.db.PingContext(pctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("cannot connect to database %s on %s as %s: %w", cfg.DBName, cfg.Addr, cfg.User, err)
	}
	return d, nil
}

// mysqlConfig builds the driver's config from the DSN or freepbx.conf.
func (s Source) mysqlConfig() (*mysql.Config, error) {
	if s.DSN != "" {
		cfg, err := mysql.ParseDSN(s.DSN)
		if err != nil {
			// The driver's message may quote the DSN, password included.
			return nil, errors.New("database_dsn is not a valid Go MySQL DSN (user:password@unix(/run/mysqld/mysqld.sock)/asterisk or user@tcp(host:3306)/asterisk)")
		}
		if s.Password != "" {
			cfg.Passwd = s.Password
		}
		if cfg.DBName == "" {
			cfg.DBName = "asterisk"
		}
		return cfg, nil
	}
	if s.ConfPath == "" {
		return nil, errors.New("no database: set freepbx_conf or database_dsn")
	}
	conf, err := ReadConf(filepath.Join(s.Root, s.ConfPath))
	if err != nil {
		return nil, err
	}
	return conf.mysqlConfig(s.Root)
}

func (c *Conf) mysqlConfig(root string) (*mysql.Config, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = c.User, c.Password, c.Name
	switch {
	case c.Socket != "" || c.Host == "localhost":
		sock, err := c.socketFor(root)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Path, err)
		}
		cfg.Net, cfg.Addr = "unix", sock
	default:
		port := c.Port
		if port == "" {
			port = "3306"
		}
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(c.Host, port)
	}
	return cfg, nil
}

// Close closes the connection pool.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, d.timeout)
}

// Application is a row of api_applications (without the secret hash,
// which ApplicationSecret returns for comparison only).
type Application struct {
	ID            int64
	Owner         *int64 // nil: an admin application; else a User Manager user id
	Name          string
	GrantType     string // authorization_code, implicit, password or client_credentials
	ClientID      string
	Algo          string // the hash algorithm of the stored secret; "" means sha256
	AllowedScopes []string
	secretHash    string
}

// AllowsAllScopes reports whether allowed_scopes is empty, which FreePBX
// treats as "gql rest".
func (a Application) AllowsAllScopes() bool { return len(a.AllowedScopes) == 0 }

// EffectiveScopes are the scopes a token gets without asking for any.
func (a Application) EffectiveScopes() []string {
	if a.AllowsAllScopes() {
		return []string{"gql", "rest"}
	}
	return a.AllowedScopes
}

// SecretHash is the hex hash FreePBX stores for the client secret.
func (a Application) SecretHash() string { return a.secretHash }

// maxApplications bounds what is read of api_applications.
const maxApplications = 500

const appColumns = "id, owner, name, grant_type, client_id, client_secret, algo, allowed_scopes"

// Applications lists api_applications by id (at most 500).
func (d *DB) Applications(ctx context.Context) ([]Application, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	rows, err := d.db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM api_applications ORDER BY id LIMIT %d", appColumns, maxApplications))
	if err != nil {
		return nil, d.queryError("api_applications", err)
	}
	defer rows.Close()
	var apps []Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, d.queryError("api_applications", err)
		}
		apps = append(apps, a)
	}
	if err := rows.Err(); err != nil {
		return nil, d.queryError("api_applications", err)
	}
	return apps, nil
}

// ApplicationByClientID returns the application with that client id, or
// nil when there is none.
func (d *DB) ApplicationByClientID(ctx context.Context, clientID string) (*Application, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	row := d.db.QueryRowContext(ctx, "SELECT "+appColumns+" FROM api_applications WHERE client_id = ? LIMIT 1", clientID)
	a, err := scanApplication(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, d.queryError("api_applications", err)
	}
	return &a, nil
}

type scanner interface{ Scan(...any) error }

func scanApplication(r scanner) (Application, error) {
	var a Application
	var owner sql.NullInt64
	var name, grant, clientID, secret, algo, scopes sql.NullString
	if err := r.Scan(&a.ID, &owner, &name, &grant, &clientID, &secret, &algo, &scopes); err != nil {
		return a, err
	}
	if owner.Valid {
		a.Owner = &owner.Int64
	}
	a.Name, a.GrantType, a.ClientID = clean(name.String, 100), clean(grant.String, 40), clean(clientID.String, 128)
	a.secretHash, a.Algo = strings.ToLower(strings.TrimSpace(secret.String)), strings.TrimSpace(algo.String)
	// FreePBX splits allowed_scopes on single spaces after trimming;
	// empty parts match nothing, so dropping them changes nothing.
	a.AllowedScopes = strings.Fields(clean(scopes.String, 4096))
	return a, nil
}

// clean bounds a database string and makes it valid UTF-8: names end up in
// metric labels and messages.
func clean(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Module is a row of the modules table.
type Module struct {
	Name      string
	Installed bool // a row exists
	Version   string
	Enabled   bool
}

// Module reads modulename = name from the modules table.
func (d *DB) Module(ctx context.Context, name string) (Module, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	m := Module{Name: name}
	var version sql.NullString
	var enabled sql.NullInt64
	err := d.db.QueryRowContext(ctx, "SELECT version, enabled FROM modules WHERE modulename = ? LIMIT 1", name).Scan(&version, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return m, nil
	}
	if err != nil {
		return m, d.queryError("modules", err)
	}
	m.Installed, m.Version, m.Enabled = true, clean(version.String, 40), enabled.Int64 != 0
	return m, nil
}

// Settings reads Advanced Settings (freepbx_settings keyword → value) for
// keys; keys without a row are absent from the map.
func (d *DB) Settings(ctx context.Context, keys ...string) (map[string]string, error) {
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	q := "SELECT keyword, value FROM freepbx_settings WHERE keyword IN (?" + strings.Repeat(",?", len(keys)-1) + ")"
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, d.queryError("freepbx_settings", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, d.queryError("freepbx_settings", err)
		}
		out[k] = clean(v.String, 1024)
	}
	if err := rows.Err(); err != nil {
		return nil, d.queryError("freepbx_settings", err)
	}
	return out, nil
}

// Token is a row of api_access_tokens, without anything that would let
// anyone use the token.
type Token struct {
	AID          int64
	Expiry       time.Time
	Scopes       []string
	ScopesRaw    string // the column when it is not a JSON array of strings
	LastAccessed time.Time
}

// TokenByID looks up the access token whose JWT `jti` is id; nil when
// FreePBX has no row for it (never stored, revoked or purged as expired).
func (d *DB) TokenByID(ctx context.Context, id string) (*Token, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	var t Token
	var expiry, last sql.NullInt64
	var scopes []byte
	err := d.db.QueryRowContext(ctx, "SELECT aid, expiry, scopes, last_accessed FROM api_access_tokens WHERE token = ? LIMIT 1", id).
		Scan(&t.AID, &expiry, &scopes, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, d.queryError("api_access_tokens", err)
	}
	t.Expiry, t.LastAccessed = unix(expiry), unix(last)
	if json.Unmarshal(scopes, &t.Scopes) != nil {
		t.Scopes, t.ScopesRaw = nil, clean(string(scopes), 512)
	}
	return &t, nil
}

func unix(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 <= 0 {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0)
}

// TokenUse sums an application's access tokens.
type TokenUse struct {
	Live         int       // rows with expiry after now
	LastAccessed time.Time // the latest last_accessed of any row; zero when none
}

// TokenUseByApplication aggregates api_access_tokens per application id.
// FreePBX deletes expired rows only lazily, so LastAccessed may come from
// an expired token: it is still the last time the application was used.
func (d *DB) TokenUseByApplication(ctx context.Context, now time.Time) (map[int64]TokenUse, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	rows, err := d.db.QueryContext(ctx, "SELECT aid, SUM(expiry > ?), MAX(last_accessed) FROM api_access_tokens GROUP BY aid", now.Unix())
	if err != nil {
		return nil, d.queryError("api_access_tokens", err)
	}
	defer rows.Close()
	out := map[int64]TokenUse{}
	for rows.Next() {
		var aid int64
		var live, last sql.NullInt64
		if err := rows.Scan(&aid, &live, &last); err != nil {
			return nil, d.queryError("api_access_tokens", err)
		}
		out[aid] = TokenUse{Live: int(live.Int64), LastAccessed: unix(last)}
	}
	if err := rows.Err(); err != nil {
		return nil, d.queryError("api_access_tokens", err)
	}
	return out, nil
}

// queryError names the table and, for the errors a restricted user meets,
// the GRANT that fixes it.
func (d *DB) queryError(table string, err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1142 || me.Number == 1143) {
		return fmt.Errorf("reading %s.%s as %s: %w (run on the PBX as root: %s)", d.Name, table, d.User, err, GrantStatement(d.Name, d.User, "localhost"))
	}
	if errors.As(err, &me) && me.Number == 1146 {
		return fmt.Errorf("reading %s.%s: %w (is the FreePBX api module installed?)", d.Name, table, err)
	}
	return fmt.Errorf("reading %s.%s: %w", d.Name, table, err)
}

// Tables are the tables pbxwatch reads; GrantStatement grants SELECT on
// exactly these.
var Tables = []string{"api_applications", "api_access_tokens", "modules", "freepbx_settings"}

// GrantStatement is the MySQL statement giving user@host read access to
// what pbxwatch reads of database db, and nothing else.
func GrantStatement(db, user, host string) string {
	var parts []string
	for _, t := range Tables {
		parts = append(parts, fmt.Sprintf("GRANT SELECT ON `%s`.`%s` TO '%s'@'%s';", db, t, user, host))
	}
	return strings.Join(parts, " ")
}
