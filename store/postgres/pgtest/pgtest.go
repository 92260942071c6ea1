// Package pgtest gives tests a PostgreSQL schema of their own on the
// suite's database (TEST_DATABASE_URL, or the local default), dropped when
// the test ends. Without PostgreSQL the test skips, unless
// SWITCHBOARD_NO_SKIP=1 makes that a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the suite's database when TEST_DATABASE_URL is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseDSN is the suite's database.
func BaseDSN() string {
	if dsn := os.Getenv("TEST_DATABASE_URL"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// SchemaDSN creates a fresh schema for t, drops it when t ends, and returns
// a DSN whose search_path points into it.
func SchemaDSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN()
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	schema := "sb_test_" + hex.EncodeToString(b[:])
	if err := Exec(base, "CREATE SCHEMA "+schema); err != nil {
		Unreachable(t, base, err)
	}
	t.Cleanup(func() {
		if err := Exec(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema)
}

// Exec runs one statement on its own connection. It does not use a test's
// context: cleanups run after that context is cancelled.
func Exec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Unreachable skips t, or fails it under SWITCHBOARD_NO_SKIP=1.
func Unreachable(t testing.TB, dsn string, err error) {
	t.Helper()
	if u, perr := url.Parse(dsn); perr == nil && u.Scheme != "" {
		dsn = u.Redacted()
	}
	if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
		t.Fatalf("PostgreSQL at %s: %v (SWITCHBOARD_NO_SKIP=1, so not skipping)", dsn, err)
	}
	t.Skipf("PostgreSQL at %s not usable, skipping: %v (set TEST_DATABASE_URL; SWITCHBOARD_NO_SKIP=1 turns this into a failure)", dsn, err)
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return strings.TrimSpace(dsn) + " search_path=" + schema // key=value form
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
