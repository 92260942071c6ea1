package postgres_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"switchboard/store"
	"switchboard/store/postgres"
	"switchboard/store/postgres/pgtest"
	"switchboard/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// requirePostgres skips (or fails) the whole test up front rather than in
// each of its subtests.
func requirePostgres(t testing.TB) {
	t.Helper()
	if err := admin(baseDSN(), "SELECT 1"); err != nil {
		unreachable(t, baseDSN(), err)
	}
}

func TestConformance(t *testing.T) {
	requirePostgres(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, schemaDSN(t)) })
}

// TestOpenConcurrentlyMigratesOnce starts several instances on one empty
// schema at once, then reopens it: the schema is migrated exactly once.
func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	dsn := schemaDSN(t)
	const instances = 4
	stores := make([]*postgres.Store, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i := range instances {
		if errs[i] != nil {
			t.Errorf("instance %d: Open: %v", i, errs[i])
			continue
		}
		if err := stores[i].Close(); err != nil {
			t.Errorf("instance %d: Close: %v", i, err)
		}
	}
	open(t, dsn)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if want := migrationCount(t); n != want {
		t.Errorf("schema_migrations has %d rows, want one per migration file, %d", n, want)
	}
}

// migrationCount returns the number of migration files the package embeds.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	return len(files)
}

// TestMigrationsRerun forgets that the migrations after the first were
// applied, so the next Open runs them over the schema they already built:
// they must be idempotent.
func TestMigrationsRerun(t *testing.T) {
	dsn := schemaDSN(t)
	s := open(t, dsn)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	if _, err := conn.Exec(t.Context(), `DELETE FROM schema_migrations WHERE version > 1`); err != nil {
		t.Fatalf("forget migrations: %v", err)
	}
	again := open(t, dsn)
	if _, err := again.HandoffsSince(t.Context(), time.Time{}, 0); err != nil {
		t.Errorf("HandoffsSince after re-running migrations: %v", err)
	}
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if want := migrationCount(t); n != want {
		t.Errorf("schema_migrations has %d rows, want %d", n, want)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Open error leaks the password: %v", err)
	}
}

// BenchmarkAppendMessage measures the write every inbound message pays.
func BenchmarkAppendMessage(b *testing.B) {
	requirePostgres(b)
	storetest.BenchAppendMessage(b, func(b *testing.B) store.Store { return open(b, schemaDSN(b)) })
}

// The suite's helpers are pgtest's, shared with every package that needs
// a PostgreSQL schema of its own.
var (
	baseDSN     = pgtest.BaseDSN
	schemaDSN   = pgtest.SchemaDSN
	admin       = pgtest.Exec
	unreachable = pgtest.Unreachable
)

// open opens a store on dsn, closed when tb ends: one instance's pool.
func open(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// BenchmarkAppendLatency replays the web chat load's writes and reads; see
// storetest.BenchAppendLatency.
func BenchmarkAppendLatency(b *testing.B) {
	requirePostgres(b)
	storetest.BenchAppendLatency(b, func(b *testing.B) store.Store { return open(b, schemaDSN(b)) })
}
