package webchat

import (
	"testing"

	"go.uber.org/goleak"
)

// Streams start goroutines; none may outlive its stream.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
