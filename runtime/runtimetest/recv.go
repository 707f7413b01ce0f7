package runtimetest

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// RecvWithin calls st.Recv and fails the test if it does not return within
// d (closing the stream first), so that a hanging stream fails the test
// instead of blocking the whole run.
func RecvWithin[T any](t testing.TB, st runtime.Stream[T], d time.Duration) (T, error) {
	t.Helper()
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1) // written once by the receiving goroutine
	go func() {
		v, err := st.Recv()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(d):
		st.Close()
		t.Fatalf("Recv did not return within %v", d)
		panic("unreachable")
	}
}
