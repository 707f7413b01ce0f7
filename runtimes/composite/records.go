package composite

import (
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/runtime"
)

// recordShards is the number of shards of a recordTable, a power of two.
// With 10,000 containers a write copies about 40 entries.
const recordShards = 256

// recordTable maps containers to the index of the runtime that owns them.
// It is read on every per-container call, so reads take no lock and write
// nothing shared: each shard is an immutable map behind an atomic pointer
// (a plain load on amd64 and arm64), and a write publishes a modified copy
// of one shard. An RWMutex read lock, by contrast, is two atomic
// read-modify-writes on one shared word per call, which profiling showed
// to be a third of the cost of a dispatch even on one CPU.
type recordTable struct {
	seed maphash.Seed
	// mu serialises writers; readers never take it.
	mu     sync.Mutex
	shards [recordShards]atomic.Pointer[map[runtime.ContainerID]int]
	// removed is closed, and replaced, whenever a record is removed.
	removed chan struct{} // guarded by mu
}

func newRecordTable() *recordTable {
	return &recordTable{seed: maphash.MakeSeed(), removed: make(chan struct{})}
}

// removals returns a channel that is closed at the next removal of a
// record.
func (t *recordTable) removals() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.removed
}

func (t *recordTable) shard(id runtime.ContainerID) *atomic.Pointer[map[runtime.ContainerID]int] {
	h := maphash.String(t.seed, id.Service) ^ uint64(id.Replica)*0x9e3779b97f4a7c15
	return &t.shards[h&(recordShards-1)]
}

// get returns the owner of id. It neither locks nor allocates.
func (t *recordTable) get(id runtime.ContainerID) (int, bool) {
	m := t.shard(id).Load()
	if m == nil {
		return 0, false
	}
	i, ok := (*m)[id]
	return i, ok
}

// insert records i as the owner of id unless id has an owner already, which
// it returns instead, with false.
func (t *recordTable) insert(id runtime.ContainerID, i int) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.shard(id)
	old := p.Load()
	if old != nil {
		if j, ok := (*old)[id]; ok {
			return j, false
		}
	}
	m := make(map[runtime.ContainerID]int, 1+lenOf(old))
	if old != nil {
		maps.Copy(m, *old)
	}
	m[id] = i
	p.Store(&m)
	return i, true
}

// remove deletes id's record if runtime i owns it.
func (t *recordTable) remove(id runtime.ContainerID, i int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.shard(id)
	old := p.Load()
	if old == nil {
		return
	}
	if j, ok := (*old)[id]; !ok || j != i {
		return
	}
	m := maps.Clone(*old)
	delete(m, id)
	p.Store(&m)
	close(t.removed)
	t.removed = make(chan struct{})
}

func lenOf(m *map[runtime.ContainerID]int) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// ownedBy returns the containers runtime i owns, for listing them when the
// runtime itself cannot be asked.
func (t *recordTable) ownedBy(i int) []runtime.ContainerID {
	var ids []runtime.ContainerID
	for s := range t.shards {
		m := t.shards[s].Load()
		if m == nil {
			continue
		}
		for id, owner := range *m {
			if owner == i {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
