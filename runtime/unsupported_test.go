package runtime

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestUnsupported calls every method of Unsupported through reflection with
// zero arguments, so a method added later is covered too, and checks that
// its error matches ErrNotSupported.
func TestUnsupported(t *testing.T) {
	v := reflect.ValueOf(Unsupported{})
	typ := v.Type()
	errType := reflect.TypeFor[error]()
	if typ.NumMethod() < 25 {
		t.Fatalf("Unsupported has %d methods; the contract minus Identity has at least 25", typ.NumMethod())
	}
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		t.Run(m.Name, func(t *testing.T) {
			args := make([]reflect.Value, m.Type.NumIn()-1)
			for j := range args {
				in := m.Type.In(j + 1)
				if in == reflect.TypeFor[context.Context]() {
					args[j] = reflect.ValueOf(context.Background())
					continue
				}
				args[j] = reflect.Zero(in)
			}
			out := v.Method(i).Call(args)
			last := out[len(out)-1]
			if last.Type() != errType {
				t.Fatalf("%s's last result is %s, not error", m.Name, last.Type())
			}
			err, _ := last.Interface().(error)
			if !errors.Is(err, ErrNotSupported) {
				t.Fatalf("%s returned %v, want an error matching ErrNotSupported", m.Name, err)
			}
		})
	}
}

// TestUnsupportedCoversContract checks that a type embedding Unsupported
// and adding Identity is a whole Runtime.
func TestUnsupportedCoversContract(t *testing.T) {
	type identityOnly struct {
		Unsupported
		Identity
	}
	var _ Runtime = identityOnly{}
}
