package runtime

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindNames(t *testing.T) {
	for _, tc := range []struct {
		err  error
		name string
	}{
		{ErrNotFound, "not_found"},
		{ErrAlreadyExists, "already_exists"},
		{ErrInvalidArgument, "invalid_argument"},
		{ErrNotSupported, "not_supported"},
		{ErrFailedPrecondition, "failed_precondition"},
		{ErrUnavailable, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := fmt.Errorf("container web-rep-0: %w", tc.err)
			if got := KindName(wrapped); got != tc.name {
				t.Errorf("KindName(%v) = %q, want %q", wrapped, got, tc.name)
			}
			if got := KindFromName(tc.name); got != tc.err {
				t.Errorf("KindFromName(%q) = %v, want %v", tc.name, got, tc.err)
			}
		})
	}
	for _, err := range []error{nil, errors.New("plain"), &RouteToPeerError{Platform: "windows"}} {
		if got := KindName(err); got != "" {
			t.Errorf("KindName(%v) = %q, want none", err, got)
		}
	}
	for _, name := range []string{"", "internal", "Not_Found"} {
		if got := KindFromName(name); got != nil {
			t.Errorf("KindFromName(%q) = %v, want nil", name, got)
		}
	}
	// Two kinds: the first in the table names it, as api.ToHTTP orders them.
	if got := KindName(fmt.Errorf("%w: %w", ErrUnavailable, ErrNotFound)); got != "not_found" {
		t.Errorf("KindName of not found and unavailable = %q, want not_found", got)
	}
}
