package freepbx

import (
	"strings"
	"testing"
)

func TestServerSideConfigErrors(t *testing.T) {
	const pw = `Db-p'a"s$s@w:rd`
	base := "url: https://pbx.example.com\nclient_id: abc\nclient_secret_file: " + secretFile(t, "s3cret-value") + "\n"
	for name, tc := range map[string]struct{ block, want string }{
		"both sources":        {"freepbx_conf: /etc/freepbx.conf\ndatabase_dsn: 'u@unix(/run/mysqld/mysqld.sock)/asterisk'\n", "pbxwatch.yml:14: freepbx_conf and database_dsn are both set"},
		"relative conf":       {"freepbx_conf: etc/freepbx.conf\n", "pbxwatch.yml:13: freepbx_conf must be an absolute path"},
		"bad dsn":             {"database_dsn: 'u:" + strings.ReplaceAll(pw, "'", "''") + "@bogus(/x'\n", "pbxwatch.yml:13: database_dsn is not a Go MySQL DSN"},
		"password file alone": {"database_password_file: /etc/pbxwatch/db.pass\n", "pbxwatch.yml:13: database_password_file goes with database_dsn"},
		"keys_dir alone":      {"keys_dir: /etc/asterisk/keys\n", "pbxwatch.yml:13: keys_dir is used by the server-side look-up only"},
		"missing pass file":   {"database_dsn: 'u@unix(/run/mysqld/mysqld.sock)/asterisk'\ndatabase_password_file: /nonexistent/db.pass\n", "pbxwatch.yml:14: database_password_file: open /nonexistent/db.pass"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := configure(t, base+tc.block)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), pw[:8]) {
				t.Fatalf("error reveals the password: %v", err)
			}
		})
	}
}

func TestSecretMatchesPHPHash(t *testing.T) {
	// PHP: hash('sha256', '') and hash('md5', 'abc'), hash('sha1', 'abc').
	for _, tc := range []struct{ algo, secret, stored string }{
		{"sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"", "", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
		{"md5", "abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"SHA1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
	} {
		if ok, known := secretMatches(tc.algo, tc.secret, tc.stored); !ok || !known {
			t.Errorf("%s(%q) does not match %s", tc.algo, tc.secret, tc.stored)
		}
	}
	if ok, _ := secretMatches("sha256", "x", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); ok {
		t.Error("a different secret matches")
	}
	if _, known := secretMatches("whirlpool", "x", "00"); known {
		t.Error("an algorithm pbxwatch lacks is reported as compared")
	}
}
