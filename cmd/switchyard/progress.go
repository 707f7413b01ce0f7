package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/switchyard/switchyard/runtime"
)

// pullDisplay shows a pull on stderr, and what it waits for when the
// registry is silent. On a terminal it draws one line per layer, redrawn in
// place as events arrive, and a line saying how long the registry has been
// silent. Elsewhere (a log, a pipe) it writes a line when the pull begins
// and ends, and one every quietEvery of silence, as docker does without a
// terminal.
type pullDisplay struct {
	w        io.Writer
	tty      bool
	ref      string
	registry string
	stop     chan struct{}
	once     sync.Once

	mu sync.Mutex
	// The fields below are guarded by mu.
	order     []string // ids in first-seen order
	last      map[string]runtime.PullProgress
	drawn     int       // lines drawn last time (tty)
	lastEvent time.Time // when the registry was last heard from
	begun     bool      // the daemon has begun to pull
	finished  bool
	closed    bool          // the pull has returned: draw nothing more
	silence   time.Duration // the silence shown last
}

const (
	// quietAfter is how long the registry may be silent before the
	// display says what the pull waits for.
	quietAfter = 3 * time.Second
	// quietEvery spaces the lines that say so without a terminal.
	quietEvery = 10 * time.Second
)

// newPullDisplay returns the display of a pull of ref on w (a terminal when
// tty is set). Pass its update as PullOptions.Progress, and call close
// when the pull has returned.
func newPullDisplay(w io.Writer, tty bool, ref string) *pullDisplay {
	p := newPullDisplayAt(w, tty, ref)
	go p.watch()
	return p
}

// newPullDisplayAt is newPullDisplay without its clock: the caller calls
// tick (tests drive the time).
func newPullDisplayAt(w io.Writer, tty bool, ref string) *pullDisplay {
	return &pullDisplay{w: w, tty: tty, ref: ref, registry: registryOf(ref), stop: make(chan struct{}),
		last: map[string]runtime.PullProgress{}}
}

// registryOf names the registry of ref for people, or the reference
// itself when it does not parse (the daemon will say why).
func registryOf(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "the registry of " + ref
	}
	return r.Context().RegistryStr()
}

// watch notices the registry's silences until close.
func (p *pullDisplay) watch() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.tick(now)
		}
	}
}

// close stops the display; the pull has returned. Nothing is drawn after
// it, so the command's own output is not drawn over.
func (p *pullDisplay) close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.stop)
	})
}

// update records an event and shows it.
func (p *pullDisplay) update(ev runtime.PullProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.updateAt(ev, time.Now())
	}
}

func (p *pullDisplay) updateAt(ev runtime.PullProgress, now time.Time) {
	if !strings.HasPrefix(ev.ID, "sha256:") {
		// The reference, as written or as the registry normalised it:
		// one line.
		ev.ID = p.ref
	}
	if _, ok := p.last[ev.ID]; !ok {
		p.order = append(p.order, ev.ID)
	}
	p.last[ev.ID] = ev
	p.lastEvent, p.silence = now, 0
	if !p.begun {
		p.begun = true
		if !p.tty {
			fmt.Fprintf(p.w, "pulling %s from %s\n", p.ref, p.registry)
		}
	}
	if ev.Status == "done" && ev.ID == p.ref {
		p.finished = true
	}
	if p.tty {
		p.redraw()
	}
}

// tick is the watch's clock: past quietAfter of silence during a pull, it
// says what the pull waits for.
func (p *pullDisplay) tick(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.begun || p.finished || p.closed {
		return
	}
	quiet := now.Sub(p.lastEvent).Truncate(time.Second)
	if quiet < quietAfter {
		return
	}
	if p.tty {
		p.silence = quiet
		p.redraw()
		return
	}
	if p.silence == 0 || quiet-p.silence >= quietEvery {
		p.silence = quiet
		fmt.Fprintf(p.w, "%s\n", p.waiting())
	}
}

// waiting says what the pull waits for, and for how long.
func (p *pullDisplay) waiting() string {
	what := "to answer"
	for _, id := range p.order {
		if p.last[id].Status == "downloading" {
			what = "to send more data"
			break
		}
	}
	return fmt.Sprintf("waiting for %s %s (silent for %s)", p.registry, what, p.silence)
}

// redraw moves the cursor up over the previous drawing and writes it anew.
func (p *pullDisplay) redraw() {
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
	if p.silence > 0 {
		fmt.Fprintf(p.w, "\x1b[2K%s\n", p.waiting())
		p.drawn++
	} else {
		fmt.Fprint(p.w, "\x1b[2K") // a waiting line drawn before goes
	}
}

// short abbreviates a digest to docker's 12 hex characters.
func short(id string) string {
	const prefix = "sha256:"
	if len(id) > len(prefix)+12 && id[:len(prefix)] == prefix {
		return id[len(prefix) : len(prefix)+12]
	}
	return id
}
