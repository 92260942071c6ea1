package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

const outboxCols = `id, conversation_id, destination, payload, idempotency_key, attempts,
	next_attempt_at, delivered_at, last_error, created_at`

func scanOutbox(r pgx.Row) (store.OutboxItem, error) {
	var it store.OutboxItem
	var conv *string
	err := r.Scan(&it.ID, &conv, &it.Destination, &it.Payload, &it.IdempotencyKey, &it.Attempts,
		&it.NextAttemptAt, &it.DeliveredAt, &it.LastError, &it.CreatedAt)
	it.ConversationID = store.ConversationID(textOf(conv))
	it.NextAttemptAt, it.DeliveredAt, it.CreatedAt = utc(it.NextAttemptAt), utcPtr(it.DeliveredAt), utc(it.CreatedAt)
	return it, err
}

// Enqueue adds it to the outbox once per idempotency key; see store.Store.
func (s *Store) Enqueue(ctx context.Context, it store.OutboxItem) (store.OutboxItem, bool, error) {
	it, err := rules.Outbox(it, rules.Now())
	if err != nil {
		return store.OutboxItem{}, false, fmt.Errorf("postgres: enqueue: %w", err)
	}
	var created bool
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		it, created, err = enqueue(ctx, tx, it)
		return err
	})
	if err != nil {
		return store.OutboxItem{}, false, fmt.Errorf("postgres: enqueue %s: %w", it.IdempotencyKey, err)
	}
	return it, created, nil
}

func enqueue(ctx context.Context, tx pgx.Tx, it store.OutboxItem) (store.OutboxItem, bool, error) {
	if it.ConversationID != "" {
		if err := conversationExists(ctx, tx, it.ConversationID); err != nil {
			return it, false, err
		}
	}
	err := tx.QueryRow(ctx, `INSERT INTO outbox (conversation_id, destination, payload, idempotency_key,
			attempts, next_attempt_at, delivered_at, last_error, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		nullText(string(it.ConversationID)), it.Destination, it.Payload, it.IdempotencyKey, it.Attempts,
		it.NextAttemptAt, it.DeliveredAt, it.LastError, it.CreatedAt,
	).Scan(&it.ID)
	if errors.Is(err, pgx.ErrNoRows) { // the key is already stored
		it, err = scanOutbox(tx.QueryRow(ctx, `SELECT `+outboxCols+` FROM outbox WHERE idempotency_key = $1`, it.IdempotencyKey))
		return it, false, err
	}
	return it, err == nil, err
}

// Due leases up to limit due items; see store.Store. The statement locks the
// rows it picks with FOR UPDATE SKIP LOCKED, so a concurrent Due on another
// instance passes over them instead of waiting, and once this one commits
// they are no longer due. The items come back in ID order.
func (s *Store) Due(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	if err := rules.Lease(limit, lease); err != nil {
		return nil, fmt.Errorf("postgres: due: %w", err)
	}
	now = rules.Time(now)
	rows, err := s.pool.Query(ctx, `UPDATE outbox SET next_attempt_at = $1
		WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $2
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+outboxCols, rules.Time(now.Add(lease)), now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due: %w", err)
	}
	out, err := collect(rows, scanOutbox)
	if err != nil {
		return nil, fmt.Errorf("postgres: due: %w", err)
	}
	// RETURNING promises no order.
	slices.SortFunc(out, func(a, b store.OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Delivered marks the item delivered; a second call keeps the first time.
func (s *Store) Delivered(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET delivered_at = coalesce(delivered_at, $1) WHERE id = $2`,
		rules.Time(at), id)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delivered %d: %w", id, err)
	}
	return nil
}

// Failed records a failed attempt and when to try next.
func (s *Store) Failed(ctx context.Context, id int64, errText string, next time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1,
		next_attempt_at = $2 WHERE id = $3`, errText, rules.Time(next), id)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: failed %d: %w", id, err)
	}
	return nil
}
