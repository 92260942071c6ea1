package opus

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the session tests leave no goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
