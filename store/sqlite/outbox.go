package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"switchboard/store"
	"switchboard/store/internal/rules"
)

const outboxCols = `id, conversation_id, destination, payload, idempotency_key, attempts,
	next_attempt_at, delivered_at, failed_at, last_error, created_at`

// pending selects the items still to deliver: neither delivered nor given up.
// The partial index outbox_pending holds exactly these.
const pending = `delivered_at IS NULL AND failed_at IS NULL`

func scanOutbox(r scanner) (store.OutboxItem, error) {
	var it store.OutboxItem
	var conv sql.NullString
	var next, created int64
	var delivered, failed sql.NullInt64
	err := r.Scan(&it.ID, &conv, &it.Destination, &it.Payload, &it.IdempotencyKey, &it.Attempts,
		&next, &delivered, &failed, &it.LastError, &created)
	it.ConversationID = store.ConversationID(conv.String)
	it.NextAttemptAt, it.CreatedAt = fromMicros(next), fromMicros(created)
	it.DeliveredAt, it.FailedAt = fromNullMicros(delivered), fromNullMicros(failed)
	return it, err
}

// Enqueue adds it to the outbox once per idempotency key; see store.Store.
func (s *Store) Enqueue(ctx context.Context, it store.OutboxItem) (store.OutboxItem, bool, error) {
	it, err := rules.Outbox(it, rules.Now())
	if err != nil {
		return store.OutboxItem{}, false, fmt.Errorf("sqlite: enqueue: %w", err)
	}
	var created bool
	err = s.inTx(ctx, func(tx *txn) error {
		var err error
		it, created, err = enqueue(ctx, tx, it)
		return err
	})
	if err != nil {
		return store.OutboxItem{}, false, fmt.Errorf("sqlite: enqueue %s: %w", it.IdempotencyKey, err)
	}
	return it, created, nil
}

func enqueue(ctx context.Context, tx *txn, it store.OutboxItem) (store.OutboxItem, bool, error) {
	if it.ConversationID != "" {
		if err := conversationExists(ctx, tx, it.ConversationID); err != nil {
			return it, false, err
		}
	}
	it.FailedAt = rules.TimePtr(it.FailedAt)
	err := tx.QueryRowContext(ctx, `INSERT INTO outbox (conversation_id, destination, payload, idempotency_key,
			attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		nullText(string(it.ConversationID)), it.Destination, it.Payload, it.IdempotencyKey, it.Attempts,
		micros(it.NextAttemptAt), nullMicros(it.DeliveredAt), nullMicros(it.FailedAt), it.LastError, micros(it.CreatedAt),
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
		WHERE id IN (SELECT id FROM outbox WHERE `+pending+` AND next_attempt_at <= ?
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
	if err := s.deliveredAll(ctx, []int64{id}, at); err != nil {
		return fmt.Errorf("sqlite: delivered %d: %w", id, err)
	}
	return nil
}

// DeliveredAll marks the items delivered in one statement; see store.Store.
func (s *Store) DeliveredAll(ctx context.Context, ids []int64, at time.Time) error {
	if err := s.deliveredAll(ctx, ids, at); err != nil {
		return fmt.Errorf("sqlite: delivered %d items: %w", len(ids), err)
	}
	return nil
}

// deliveredAll passes the ids as one JSON array, so the statement's text is
// the same however many there are.
func (s *Store) deliveredAll(ctx context.Context, ids []int64, at time.Time) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET delivered_at = coalesce(delivered_at, ?)
		WHERE id IN (SELECT value FROM json_each(?))`, micros(rules.Time(at)), string(list))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n < int64(len(ids)) {
		err = store.ErrNotFound
	}
	return err
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

// GiveUp records the last failed attempt and ends the item's delivery; see
// store.Store. The single writer runs the update and the check of why it
// matched nothing in one transaction.
func (s *Store) GiveUp(ctx context.Context, id int64, errText string, at time.Time) error {
	err := s.inTx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed_at = ?
			WHERE id = ? AND `+pending, errText, micros(rules.Time(at)), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var delivered bool
		err = tx.QueryRowContext(ctx, `SELECT delivered_at IS NOT NULL FROM outbox WHERE id = ?`, id).Scan(&delivered)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.ErrNotFound
		case err == nil && delivered:
			return fmt.Errorf("already delivered: %w", store.ErrWrongState)
		}
		return err // nil: given up before, the first record stands
	})
	if err != nil {
		return fmt.Errorf("sqlite: give up %d: %w", id, err)
	}
	return nil
}

// OutboxItem returns one item; see store.Store.
func (s *Store) OutboxItem(ctx context.Context, id int64) (store.OutboxItem, error) {
	it, err := scanOutbox(s.read.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("sqlite: outbox item %d: %w", id, err)
	}
	return it, nil
}

// OutboxStats counts the pending items; see store.Store.
func (s *Store) OutboxStats(ctx context.Context, now time.Time) (store.OutboxStats, error) {
	var st store.OutboxStats
	var oldest sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(next_attempt_at <= ?), 0), min(created_at)
		FROM outbox WHERE `+pending, micros(rules.Time(now))).Scan(&st.Depth, &st.Due, &oldest)
	if err != nil {
		return store.OutboxStats{}, fmt.Errorf("sqlite: outbox stats: %w", err)
	}
	if oldest.Valid {
		st.Oldest = fromMicros(oldest.Int64)
	}
	return st, nil
}
