package voice_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every call a test makes must be gone when it ends: the call's run loop,
// its worker, speaker and transfer, and the media sessions of both legs.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
