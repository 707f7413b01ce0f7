package images

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testutil"
)

// copies counts the layer copies running at once and the most seen.
type copies struct{ active, most atomic.Int32 }

// countedLayer is a layer whose copies are counted. Each copy, once
// started, waits a little for others to join it, so that copies a bound
// does not hold back are seen together.
type countedLayer struct {
	v1.Layer
	c *copies
}

func (l countedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return &countedReader{ReadCloser: rc, c: l.c}, nil
}

type countedReader struct {
	io.ReadCloser
	c       *copies
	started bool
	done    bool
}

func (r *countedReader) Read(p []byte) (int, error) {
	if !r.started {
		r.started = true
		r.c.start()
		testutil.Poll(300*time.Millisecond, func() bool { return r.c.active.Load() > 2 })
	}
	n, err := r.ReadCloser.Read(p)
	if err != nil {
		r.end()
	}
	return n, err
}

func (r *countedReader) Close() error {
	r.end()
	return r.ReadCloser.Close()
}

func (r *countedReader) end() {
	if r.started && !r.done {
		r.done = true
		r.c.active.Add(-1)
	}
}

// start counts a copy that begins.
func (c *copies) start() {
	n := c.active.Add(1)
	for {
		m := c.most.Load()
		if n <= m || c.most.CompareAndSwap(m, n) {
			return
		}
	}
}

// WithJobs bounds the copies of one write, however many platforms of an
// index it stores.
func TestJobsBoundTheWholeIndexWrite(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, WithJobs(2))
	c := &copies{}
	var entries []entry
	var pull []v1.Hash
	for i, p := range []ocispec.Platform{linuxAMD64, windowsP, {OS: "linux", Architecture: "arm64"}} {
		a := countedLayer{mustLayer(t, file{name: "a", body: fmt.Sprint("a", i)}), c}
		b := countedLayer{mustLayer(t, file{name: "b", body: fmt.Sprint("b", i)}), c}
		img := mustImage(t, a, b)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = p.OS, p.Architecture
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{img, p})
		pull = append(pull, digestOfImage(t, img))
	}
	if _, err := s.WriteIndex(ctx, "example.com/jobs:1", index(t, entries...), pull, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if most := c.most.Load(); most > 2 {
		t.Errorf("%d layer copies ran at once, with WithJobs(2)", most)
	}
}
