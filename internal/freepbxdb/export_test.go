package freepbxdb

import "database/sql"

// DBForTest exposes the pool so tests can prove the grants refuse writes.
func (d *DB) DBForTest() *sql.DB { return d.db }
