package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/switchyard/switchyard/runtime"
)

// progress draws pull progress on a terminal: one line per layer, redrawn in
// place as events arrive.
type progress struct {
	w io.Writer

	mu    sync.Mutex
	order []string                        // guarded by mu: ids in first-seen order
	last  map[string]runtime.PullProgress // guarded by mu
	drawn int                             // guarded by mu: lines drawn last time
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, last: map[string]runtime.PullProgress{}}
}

// update records an event and redraws.
func (p *progress) update(ev runtime.PullProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.last[ev.ID]; !ok {
		p.order = append(p.order, ev.ID)
	}
	p.last[ev.ID] = ev
	p.redraw()
}

// redraw moves the cursor up over the previous drawing and writes it anew.
func (p *progress) redraw() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA", p.drawn)
	}
	for _, id := range p.order {
		ev := p.last[id]
		line := fmt.Sprintf("%s: %s", short(id), ev.Status)
		if ev.Total > 0 {
			line += fmt.Sprintf(" %s/%s", humanSize(ev.Current), humanSize(ev.Total))
		} else if ev.Current > 0 {
			line += " " + humanSize(ev.Current)
		}
		fmt.Fprintf(p.w, "\x1b[2K%s\n", line)
	}
	p.drawn = len(p.order)
}

// short abbreviates a digest to docker's 12 hex characters.
func short(id string) string {
	const prefix = "sha256:"
	if len(id) > len(prefix)+12 && id[:len(prefix)] == prefix {
		return id[len(prefix) : len(prefix)+12]
	}
	return id
}
