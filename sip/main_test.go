package sip

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server, peer and call a test starts must be gone when it ends:
// sipgo's read loops, transactions and our call goroutines included.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
