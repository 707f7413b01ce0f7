package composite

import (
	"fmt"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

func TestRecordTable(t *testing.T) {
	tb := newRecordTable()
	a := runtime.ContainerID{Service: "a"}
	if _, ok := tb.get(a); ok {
		t.Fatal("an empty table has a record")
	}
	tb.remove(a, 0) // nothing to remove: no shard yet
	if j, ok := tb.insert(a, 1); !ok || j != 1 {
		t.Fatalf("insert = %d, %v", j, ok)
	}
	if j, ok := tb.insert(a, 2); ok || j != 1 {
		t.Fatalf("second insert = %d, %v; want the first owner and false", j, ok)
	}
	tb.remove(a, 2) // not the owner: kept
	if i, ok := tb.get(a); !ok || i != 1 {
		t.Fatalf("get after a remove by another owner = %d, %v", i, ok)
	}
	tb.remove(runtime.ContainerID{Service: "a", Replica: 1}, 1) // absent in a shard that may exist
	tb.remove(a, 1)
	if _, ok := tb.get(a); ok {
		t.Fatal("record survived its owner's remove")
	}
}

// TestRecordTableConcurrent reads while writers insert and remove, for the
// race detector.
func TestRecordTableConcurrent(t *testing.T) {
	tb := newRecordTable()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				id := runtime.ContainerID{Service: fmt.Sprintf("s%d", w), Replica: uint32(i)}
				tb.insert(id, w)
				if got, ok := tb.get(id); !ok || got != w {
					t.Errorf("get(%s) = %d, %v right after insert", id, got, ok)
					return
				}
				if i%2 == 0 {
					tb.remove(id, w)
				}
			}
		})
	}
	wg.Wait()
	for w := range 4 {
		for i := range 500 {
			_, ok := tb.get(runtime.ContainerID{Service: fmt.Sprintf("s%d", w), Replica: uint32(i)})
			if ok != (i%2 == 1) {
				t.Fatalf("s%d replica %d present = %v", w, i, ok)
			}
		}
	}
}

func TestImageKey(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"short name", "busybox", "index.docker.io/library/busybox:latest"},
		{"fully qualified", "index.docker.io/library/busybox:latest", "index.docker.io/library/busybox:latest"},
		{"registry alias without tag", "docker.io/library/busybox", "index.docker.io/library/busybox:latest"},
		{"private registry", "127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:v1"},
		{"not a reference is kept", "Not A Reference", "Not A Reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := imageKey(tc.in); got != tc.want {
				t.Fatalf("imageKey(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
