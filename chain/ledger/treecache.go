package ledger

// treeCacheLevels is the depth of the state tree the ledger keeps in
// memory for execution (smt.Cache): the inner nodes and leaves above
// depth 18, 97 bytes per node of the tree's upper levels and an index of
// 4 bytes per position of each deep level reached (1 MB), at most 26 MB.
//
// Each block rewrites the paths from its changed leaves to the root, and
// inserts its new keys down paths that earlier blocks rewrote; from
// Pebble each node is a lookup through every level. A cache of the most
// recently written and read nodes by hash (before 2026-12-06) kept the
// upper part of the last few blocks' paths, but a block of anchors
// inserts most keys below them, down paths last touched many blocks ago:
// at 4·10^4 keys it still left 7.6 Pebble reads per anchor, half the CPU
// of a block's commit (BenchmarkCommitAnchors). The positions of the
// upper levels are few and reused by every block: kept by position they
// leave some 0.25 reads per anchor at 4·10^4 keys (an inserted key's
// neighbouring leaf, when it sits below the kept levels). The cache
// checks every node by its hash, so it changes how fast a block executes,
// never its result.
const treeCacheLevels = 18
