package store

// Stats are figures of the Pebble store for monitoring (a node's metrics
// listener); they do not touch the data.
type Stats struct {
	DiskBytes        uint64 // all files of the store on disk
	MemtableBytes    uint64 // allocated by memtables
	WALBytes         uint64 // live data in the write-ahead log
	L0Files          int64  // sstables in level 0 (a backlog of flushes shows here)
	Tables           int64  // sstables in all levels
	ReadAmp          int    // read amplification (sublevels a read may visit)
	Compactions      int64  // compactions since the store was opened
	CompactionDebt   uint64 // estimated bytes to compact to reach a stable shape
	CompactedBytes   uint64 // bytes of tables written by compactions since the store was opened (flushes not counted)
	BlockCacheHits   int64
	BlockCacheMisses int64
}

// Stats returns the store's current Pebble figures.
func (s *Store) Stats() Stats {
	m := s.db.Metrics()
	var tables int64
	var compacted uint64
	for _, l := range m.Levels {
		tables += l.TablesCount
		compacted += l.TableBytesCompacted
	}
	return Stats{
		DiskBytes:        m.DiskSpaceUsage(),
		MemtableBytes:    m.MemTable.Size,
		WALBytes:         m.WAL.Size,
		L0Files:          m.Levels[0].TablesCount,
		Tables:           tables,
		ReadAmp:          m.ReadAmp(),
		Compactions:      m.Compact.Count,
		CompactionDebt:   m.Compact.EstimatedDebt,
		CompactedBytes:   compacted,
		BlockCacheHits:   m.BlockCache.Hits,
		BlockCacheMisses: m.BlockCache.Misses,
	}
}
