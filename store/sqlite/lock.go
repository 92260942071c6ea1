package sqlite

import (
	"context"
	"fmt"

	"switchboard/store"
)

// LockConversation takes the conversation's lock; see store.Store. The lock
// lives in this process: one process serves the file, so no other runs the
// conversation's turns.
func (s *Store) LockConversation(ctx context.Context, id store.ConversationID) (func(), error) {
	unlock, err := s.locks.Lock(ctx, string(id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock conversation %s: %w", id, err)
	}
	return unlock, nil
}
