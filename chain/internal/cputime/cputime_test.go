package cputime_test

import (
	"fmt"
	"testing"

	"github.com/trialchain/trialchain/chain/internal/cputime"
)

// TestProcessGrows: work done shows in the process's CPU time.
func TestProcessGrows(t *testing.T) {
	before := cputime.Process()
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i ^ x>>3
	}
	if after := cputime.Process(); after <= before {
		t.Fatalf("CPU time %v then %v after a busy loop (%d)", before, after, x)
	}
}

func ExampleProcess() {
	start := cputime.Process()
	// ... the work to measure ...
	used := cputime.Process() - start
	fmt.Println(used >= 0)
	// Output: true
}
