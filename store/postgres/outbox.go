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
	next_attempt_at, delivered_at, failed_at, last_error, created_at`

// pending selects the items still to deliver: neither delivered nor given up.
// The partial index outbox_pending holds exactly these.
const pending = `delivered_at IS NULL AND failed_at IS NULL`

func scanOutbox(r pgx.Row) (store.OutboxItem, error) {
	var it store.OutboxItem
	var conv *string
	err := r.Scan(&it.ID, &conv, &it.Destination, &it.Payload, &it.IdempotencyKey, &it.Attempts,
		&it.NextAttemptAt, &it.DeliveredAt, &it.FailedAt, &it.LastError, &it.CreatedAt)
	it.ConversationID = store.ConversationID(textOf(conv))
	it.NextAttemptAt, it.CreatedAt = utc(it.NextAttemptAt), utc(it.CreatedAt)
	it.DeliveredAt, it.FailedAt = utcPtr(it.DeliveredAt), utcPtr(it.FailedAt)
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
	it.FailedAt = rules.TimePtr(it.FailedAt)
	err := tx.QueryRow(ctx, `INSERT INTO outbox (conversation_id, destination, payload, idempotency_key,
			attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		nullText(string(it.ConversationID)), it.Destination, it.Payload, it.IdempotencyKey, it.Attempts,
		it.NextAttemptAt, it.DeliveredAt, it.FailedAt, it.LastError, it.CreatedAt,
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
		WHERE id IN (SELECT id FROM outbox WHERE `+pending+` AND next_attempt_at <= $2
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
	if err := s.deliveredAll(ctx, []int64{id}, at); err != nil {
		return fmt.Errorf("postgres: delivered %d: %w", id, err)
	}
	return nil
}

// DeliveredAll marks the items delivered in one statement; see store.Store.
func (s *Store) DeliveredAll(ctx context.Context, ids []int64, at time.Time) error {
	if err := s.deliveredAll(ctx, ids, at); err != nil {
		return fmt.Errorf("postgres: delivered %d items: %w", len(ids), err)
	}
	return nil
}

func (s *Store) deliveredAll(ctx context.Context, ids []int64, at time.Time) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET delivered_at = coalesce(delivered_at, $1) WHERE id = ANY($2)`,
		rules.Time(at), ids)
	if err == nil && tag.RowsAffected() < int64(len(ids)) {
		err = store.ErrNotFound
	}
	return err
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

// GiveUp records the last failed attempt and ends the item's delivery; see
// store.Store. The update and the check of why it matched nothing share a
// transaction, so a concurrent Delivered cannot slip between them.
func (s *Store) GiveUp(ctx context.Context, id int64, errText string, at time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, failed_at = $2
			WHERE id = $3 AND `+pending, errText, rules.Time(at), id)
		if err != nil || tag.RowsAffected() > 0 {
			return err
		}
		var delivered bool
		err = tx.QueryRow(ctx, `SELECT delivered_at IS NOT NULL FROM outbox WHERE id = $1`, id).Scan(&delivered)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrNotFound
		case err == nil && delivered:
			return fmt.Errorf("already delivered: %w", store.ErrWrongState)
		}
		return err // nil: given up before, the first record stands
	})
	if err != nil {
		return fmt.Errorf("postgres: give up %d: %w", id, err)
	}
	return nil
}

// OutboxItem returns one item; see store.Store.
func (s *Store) OutboxItem(ctx context.Context, id int64) (store.OutboxItem, error) {
	it, err := scanOutbox(s.pool.QueryRow(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("postgres: outbox item %d: %w", id, err)
	}
	return it, nil
}

// OutboxStats counts the pending items; see store.Store.
func (s *Store) OutboxStats(ctx context.Context, now time.Time) (store.OutboxStats, error) {
	var st store.OutboxStats
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE next_attempt_at <= $1), min(created_at)
		FROM outbox WHERE `+pending, rules.Time(now)).Scan(&st.Depth, &st.Due, &oldest)
	if err != nil {
		return store.OutboxStats{}, fmt.Errorf("postgres: outbox stats: %w", err)
	}
	if oldest != nil {
		st.Oldest = utc(*oldest)
	}
	return st, nil
}
