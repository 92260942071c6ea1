package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

const outboxCols = `id, conversation_id, destination, payload, idempotency_key, attempts,
	next_attempt_at, delivered_at, last_error, created_at`

func scanOutbox(r scanner) (store.OutboxItem, error) {
	var it store.OutboxItem
	var conv sql.NullString
	var next, created int64
	var delivered sql.NullInt64
	err := r.Scan(&it.ID, &conv, &it.Destination, &it.Payload, &it.IdempotencyKey, &it.Attempts,
		&next, &delivered, &it.LastError, &created)
	it.ConversationID = store.ConversationID(conv.String)
	it.NextAttemptAt, it.DeliveredAt, it.CreatedAt = fromMicros(next), fromNullMicros(delivered), fromMicros(created)
	return it, err
}

// Enqueue adds it to the outbox once per idempotency key; see store.Store.
func (s *Store) Enqueue(ctx context.Context, it store.OutboxItem) (store.OutboxItem, bool, error) {
	it, err := rules.Outbox(it, rules.Now())
	if err != nil {
		return store.OutboxItem{}, false, fmt.Errorf("sqlite: enqueue: %w", err)
	}
	var created bool
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		it, created, err = enqueue(ctx, tx, it)
		return err
	})
	if err != nil {
		return store.OutboxItem{}, false, fmt.Errorf("sqlite: enqueue %s: %w", it.IdempotencyKey, err)
	}
	return it, created, nil
}

func enqueue(ctx context.Context, tx *sql.Tx, it store.OutboxItem) (store.OutboxItem, bool, error) {
	if it.ConversationID != "" {
		if err := conversationExists(ctx, tx, it.ConversationID); err != nil {
			return it, false, err
		}
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO outbox (conversation_id, destination, payload, idempotency_key,
			attempts, next_attempt_at, delivered_at, last_error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		nullText(string(it.ConversationID)), it.Destination, it.Payload, it.IdempotencyKey, it.Attempts,
		micros(it.NextAttemptAt), nullMicros(it.DeliveredAt), it.LastError, micros(it.CreatedAt),
	).Scan(&it.ID)
	if errors.Is(err, sql.ErrNoRows) { // the key is already stored
		row := tx.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE idempotency_key = ?`, it.IdempotencyKey)
		it, err = scanOutbox(row)
		return it, false, err
	}
	return it, err == nil, err
}

// Due leases up to limit due items; see store.Store. One UPDATE on the single
// writer picks and pushes them back, so no other caller can pick them between.
// The items come back in ID order.
func (s *Store) Due(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]store.OutboxItem, error) {
	if err := rules.Lease(limit, lease); err != nil {
		return nil, fmt.Errorf("sqlite: due: %w", err)
	}
	now = rules.Time(now)
	rows, err := s.write.QueryContext(ctx, `UPDATE outbox SET next_attempt_at = ?
		WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+outboxCols, micros(rules.Time(now.Add(lease))), micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due: %w", err)
	}
	out, err := collect(rows, scanOutbox)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due: %w", err)
	}
	// RETURNING promises no order.
	slices.SortFunc(out, func(a, b store.OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Delivered marks the item delivered; a second call keeps the first time.
func (s *Store) Delivered(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET delivered_at = coalesce(delivered_at, ?) WHERE id = ?`,
		micros(rules.Time(at)), id)
	if err == nil {
		err = oneRow(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delivered %d: %w", id, err)
	}
	return nil
}

// Failed records a failed attempt and when to try next.
func (s *Store) Failed(ctx context.Context, id int64, errText string, next time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?,
		next_attempt_at = ? WHERE id = ?`, errText, micros(rules.Time(next)), id)
	if err == nil {
		err = oneRow(res, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: failed %d: %w", id, err)
	}
	return nil
}
