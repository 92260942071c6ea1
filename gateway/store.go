package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"switchboard/config"
	"switchboard/store"
	"switchboard/store/postgres"
	"switchboard/store/sqlite"
)

func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	switch cfg.Store.Driver {
	case "postgres":
		dsn := os.Getenv(cfg.Store.Postgres.DSNEnv)
		if dsn == "" {
			return nil, fmt.Errorf("store: postgres needs its DSN in the environment variable %s", cfg.Store.Postgres.DSNEnv)
		}
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	default:
		path := cfg.Store.SQLite.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.DataDir, path)
		}
		st, err := sqlite.Open(ctx, path, sqlite.WithDurability(sqlite.Durability(cfg.Store.SQLite.Durability)))
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
}
