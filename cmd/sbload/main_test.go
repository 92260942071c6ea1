package main

import (
	"testing"

	"go.uber.org/goleak"
)

// A run starts two goroutines per conversation; none may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
