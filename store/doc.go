// Package store keeps verdicts between runs in a SQLite file, so that an address
// verified last week is not probed again today, and so that greylisted rows can be
// rechecked later.
//
// The file is opened in WAL mode with a busy timeout: several everify processes may use
// one store at once (readers never block, writers queue). SQLite comes from
// modernc.org/sqlite, a translation of SQLite's C source to Go, so binaries stay
// CGO_ENABLED=0 and static.
//
// # Schema (version 1)
//
// The schema version is PRAGMA user_version; PRAGMA application_id is 0x65766679
// ("evfy"), which tells an everify store from another program's database. Newer
// versions migrate older files forward on open.
//
//	CREATE TABLE results (
//	    email      TEXT NOT NULL, -- normalized address (the record's "email")
//	    settings   TEXT NOT NULL, -- hash of the settings that can change a verdict
//	    status     TEXT NOT NULL,
//	    reason     TEXT NOT NULL,
//	    checked_at TEXT NOT NULL, -- RFC 3339, UTC: when the servers were asked
//	    record     TEXT NOT NULL, -- the full JSON record
//	    PRIMARY KEY (email, settings)
//	) WITHOUT ROWID;
//	CREATE TABLE domains (
//	    domain     TEXT PRIMARY KEY, -- ASCII (A-label) domain
//	    mx         TEXT NOT NULL,    -- the record's "domain" object: MX hosts, implicit/null MX
//	    catch_all  INTEGER,          -- 1 yes, 0 no, NULL not known
//	    checked_at TEXT NOT NULL
//	) WITHOUT ROWID;
//
// # Ages
//
// A stored verdict is reused while younger than its maximum age ([Policy]): 30 days for
// deliverable and undeliverable, 7 days for risky; unknown verdicts are never reused
// (they are kept a day, for `everify recheck --after`).
package store
