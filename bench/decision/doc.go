// Package decision benchmarks one full policy decision — the check chain the
// gateway runs at MAIL FROM, RCPT TO (twice) and the end of DATA — against a
// directory of 100,000 tenants and 1,000,000 users in a real SQLite store,
// with embedded counters and with Redis.
//
// Everything lives in decision_test.go; run it with
//
//	go test -run '^$' -bench Decision -benchtime=2000x ./bench/decision/
//	go test -run '^$' -bench SnapshotLoad -benchtime=5x ./bench/decision/
//
// The populated database is cached under os.TempDir(), keyed by a hash of
// the schema, so only the first run pays for the population (about a
// minute). Results are in docs/benchmarks.md ("Policy decisions").
package decision
