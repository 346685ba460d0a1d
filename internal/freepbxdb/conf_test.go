package freepbxdb

import (
	"strings"
	"testing"
)

// A freepbx.conf as the FreePBX installer writes it, with a password full
// of characters PHP escapes.
const installerConf = `<?php
$amp_conf['AMPDBUSER'] = 'freepbxuser';
$amp_conf['AMPDBPASS'] = 'p\'a"s$s\\w#o;r//d';
$amp_conf['AMPDBHOST'] = 'localhost';
$amp_conf['AMPDBPORT'] = '3306';
$amp_conf['AMPDBNAME'] = 'asterisk';
$amp_conf['AMPDBENGINE'] = 'mysql';
$amp_conf['datasource'] = ''; //for sqlite3

require_once('/var/www/html/admin/bootstrap.php');
?>
`

func TestParseConfInstallerFormat(t *testing.T) {
	c, err := ParseConf("/etc/freepbx.conf", []byte(installerConf))
	if err != nil {
		t.Fatal(err)
	}
	want := Conf{Path: "/etc/freepbx.conf", User: "freepbxuser", Password: `p'a"s$s\w#o;r//d`, Host: "localhost", Port: "3306", Name: "asterisk", Engine: "mysql"}
	if *c != want {
		t.Fatalf("got %+v\nwant %+v", *c, want)
	}
	if strings.Contains(c.String(), "w#o") {
		t.Errorf("String shows the password: %s", c)
	}
}

func TestParseConfDoubleQuotesAndComments(t *testing.T) {
	src := "<?php\n$amp_conf = array();\n/* $amp_conf['AMPDBUSER'] = 'commented'; */\n# $amp_conf['AMPDBPASS'] = 'no';\n" +
		"$amp_conf[\"AMPDBUSER\"]=\"asterisk\";\n$amp_conf [ 'AMPDBPASS' ] =\n  \"t\\x41b\\t\\u{e9}\\101\\$x\\q\\\"\" ;\n" +
		"$amp_conf['AMPDBSOCK'] = '/run/mysqld/mysqld.sock';\n$amp_conf['AMPMGRPASS'] = getenv('X');\n"
	c, err := ParseConf("f", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.User != "asterisk" || c.Password != "tAb\t\u00e9A$x\\q\"" || c.Socket != "/run/mysqld/mysqld.sock" || c.Name != "asterisk" || c.Host != "localhost" {
		t.Fatalf("%+v", *c)
	}
}

func TestParseConfErrorsNameTheLine(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"expression":    {"<?php\n$amp_conf['AMPDBUSER'] = 'u';\n$amp_conf['AMPDBPASS'] = getenv('DBPASS');\n", "f:3: $amp_conf['AMPDBPASS'] is not assigned a plain quoted string"},
		"concatenation": {"<?php\n$amp_conf['AMPDBUSER'] = 'u' . 'v';\n", "f:2: $amp_conf['AMPDBUSER'] is not assigned"},
		"interpolation": {"<?php\n\n$amp_conf['AMPDBPASS'] = \"a$b\";\n", "f:3: a double-quoted string interpolates"},
		"unclosed":      {"<?php\n$amp_conf['AMPDBUSER'] = 'u;\n", "f:2: string is never closed"},
		"no user":       {"<?php\n$amp_conf['AMPDBPASS'] = 'x';\n", "no $amp_conf['AMPDBUSER']"},
		"engine":        {"<?php\n$amp_conf['AMPDBUSER'] = 'u';\n$amp_conf['AMPDBENGINE'] = 'sqlite3';\n", "AMPDBENGINE is \"sqlite3\""},
		"port":          {"<?php\n$amp_conf['AMPDBUSER'] = 'u';\n$amp_conf['AMPDBPORT'] = 'x';\n", "AMPDBPORT \"x\""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConf("f", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseConf(f *testing.F) {
	f.Add([]byte(installerConf))
	f.Add([]byte("<?php $amp_conf['AMPDBPASS'] = \"\\u{41\\x4\\0\";"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConf("f", b)
		if err == nil && c.User == "" {
			t.Fatal("no error without a user")
		}
	})
}
