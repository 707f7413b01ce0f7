package eventlog

import (
	"context"
	"testing"
	"time"
)

type ev struct {
	n int
	t time.Time
}

func newLog(capacity int) *Log[ev] {
	return New(capacity, func(e ev) time.Time { return e.t })
}

func TestPastIsBoundedAndOrdered(t *testing.T) {
	l := newLog(3)
	base := time.Unix(1000, 0)
	for i := range 5 {
		l.Publish(ev{i, base.Add(time.Duration(i) * time.Second)})
	}
	past, _ := l.Subscribe(t.Context(), base)
	if len(past) != 3 || past[0].n != 2 || past[2].n != 4 {
		t.Fatalf("past = %v; want the last three, oldest first", past)
	}
	past, _ = l.Subscribe(t.Context(), base.Add(3*time.Second))
	if len(past) != 2 || past[0].n != 3 {
		t.Fatalf("past since 3s = %v; want events 3 and 4", past)
	}
	if past, _ := l.Subscribe(t.Context(), time.Time{}); len(past) != 0 {
		t.Fatalf("a zero since gave the past: %v", past)
	}
}

func TestSubscribersGetWhatFollowsUntilTheyGo(t *testing.T) {
	l := newLog(10)
	ctx, cancel := context.WithCancel(t.Context())
	_, live := l.Subscribe(ctx, time.Time{})
	l.Publish(ev{n: 1})
	if e := <-live; e.n != 1 {
		t.Fatalf("got %v; want event 1", e)
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-live:
			if !ok {
				l.Publish(ev{n: 2}) // no subscriber left: nothing blocks
				return
			}
		case <-deadline:
			t.Fatal("the channel was not closed when the subscriber's context ended")
		}
	}
}

func TestASlowSubscriberMissesRatherThanBlocks(t *testing.T) {
	l := newLog(10)
	_, live := l.Subscribe(t.Context(), time.Time{})
	for i := range subscriberBuffer + 5 {
		l.Publish(ev{n: i})
	}
	if got := l.Missed(); got != 5 {
		t.Fatalf("missed = %d; want 5", got)
	}
	if e := <-live; e.n != 0 {
		t.Fatalf("first = %v; want event 0", e)
	}
}
