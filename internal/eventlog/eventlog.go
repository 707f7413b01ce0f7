// Package eventlog keeps the node's recent events and hands them to
// subscribers as they happen: what docker events reads. It is bounded: the
// log keeps the last events up to its capacity, and a subscriber that does
// not keep up misses events rather than slowing the node down.
package eventlog

import (
	"context"
	"sync"
	"time"
)

// subscriberBuffer is how many events a subscriber may fall behind by
// before it misses some.
const subscriberBuffer = 256

// Log is a bounded record of events of type T, with live subscribers. It
// is safe for concurrent use.
type Log[T any] struct {
	timeOf func(T) time.Time

	mu     sync.Mutex
	ring   []T
	next   int // where the next event goes once the ring is full
	full   bool
	subs   map[chan T]struct{}
	missed uint64
}

// New returns a log that keeps the last capacity events; timeOf gives an
// event's time, which Subscribe's since is compared with.
func New[T any](capacity int, timeOf func(T) time.Time) *Log[T] {
	if capacity < 1 {
		capacity = 1
	}
	return &Log[T]{timeOf: timeOf, ring: make([]T, 0, capacity), subs: map[chan T]struct{}{}}
}

// Publish records e and hands it to every subscriber; a subscriber whose
// buffer is full misses it (counted by Missed).
func (l *Log[T]) Publish(e T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < cap(l.ring) {
		l.ring = append(l.ring, e)
	} else {
		l.ring[l.next] = e
		l.next = (l.next + 1) % len(l.ring)
		l.full = true
	}
	for ch := range l.subs {
		select {
		case ch <- e:
		default:
			l.missed++
		}
	}
}

// past returns the kept events at or after since, oldest first. Guarded
// by mu.
func (l *Log[T]) past(since time.Time) []T {
	var out []T
	n := len(l.ring)
	for i := range n {
		e := l.ring[(l.next+i)%n]
		if !l.timeOf(e).Before(since) {
			out = append(out, e)
		}
	}
	return out
}

// Subscribe returns the kept events from since on (none when since is
// zero) and a channel of the events published after them, with nothing
// lost or repeated between the two. The channel is closed when ctx ends.
func (l *Log[T]) Subscribe(ctx context.Context, since time.Time) ([]T, <-chan T) {
	ch := make(chan T, subscriberBuffer)
	l.mu.Lock()
	var past []T
	if !since.IsZero() {
		past = l.past(since)
	}
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
		close(ch)
	})
	return past, ch
}

// Missed counts the events subscribers missed because they fell behind.
func (l *Log[T]) Missed() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.missed
}
