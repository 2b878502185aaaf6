package smt_test

import (
	"fmt"

	"github.com/trialchain/trialchain/chain/smt"
)

// ExampleProve writes two versions of a small state, then proves a value and
// an absence against the first root, as a client holding only that root
// would check them.
func ExampleProve() {
	store := smt.MemStore{}
	root1, nodes, err := smt.Apply(store, smt.Empty, []smt.Update{
		{Key: []byte("acct/alice"), Value: []byte("100")},
		{Key: []byte("acct/bob"), Value: []byte("50")},
	})
	if err != nil {
		panic(err)
	}
	store.Put(nodes) // with the block of height 1
	root2, nodes, err := smt.Apply(store, root1, []smt.Update{
		{Key: []byte("acct/alice"), Value: []byte("90")},
		{Key: []byte("acct/bob"), Delete: true},
	})
	if err != nil {
		panic(err)
	}
	store.Put(nodes) // with the block of height 2

	// Height 1 is still readable.
	p, value, found, err := smt.Prove(store, root1, []byte("acct/bob"))
	if err != nil {
		panic(err)
	}
	raw := p.Encode()
	fmt.Printf("height 1: bob=%s found=%v, proof of %d bytes\n", value, found, len(raw))

	// The client side: decode and verify against the root of height 1.
	q, err := smt.DecodeProof(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println("verify bob=50 at height 1:", q.VerifyValue(root1, []byte("acct/bob"), []byte("50")))
	fmt.Println("verify bob=51 at height 1 fails:", q.VerifyValue(root1, []byte("acct/bob"), []byte("51")) != nil)

	// At height 2 only alice is left: the root is her leaf.
	p, _, found, _ = smt.Prove(store, root2, []byte("acct/bob"))
	fmt.Printf("height 2: bob found=%v, %d siblings, absent: %v\n", found, len(p.Siblings), p.VerifyAbsent(root2, []byte("acct/bob")))
	// Output:
	// height 1: bob=50 found=true, proof of 98 bytes
	// verify bob=50 at height 1: <nil>
	// verify bob=51 at height 1 fails: true
	// height 2: bob found=false, 0 siblings, absent: <nil>
}
