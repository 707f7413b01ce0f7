package runtime

import (
	"errors"
	"fmt"
	"os"
	"syscall"
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

func TestKindOfAndStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		kind   error
		status int
	}{
		{fmt.Errorf("x: %w", ErrNotFound), ErrNotFound, 404},
		{fmt.Errorf("x: %w", ErrAlreadyExists), ErrAlreadyExists, 409},
		{fmt.Errorf("x: %w", ErrInvalidArgument), ErrInvalidArgument, 400},
		{fmt.Errorf("x: %w", ErrNotSupported), ErrNotSupported, 501},
		{fmt.Errorf("x: %w", ErrFailedPrecondition), ErrFailedPrecondition, 412},
		{fmt.Errorf("x: %w", ErrUnavailable), ErrUnavailable, 503},
		// Two kinds: the first in the table's order names it.
		{fmt.Errorf("%w (%w)", ErrUnavailable, ErrNotFound), ErrNotFound, 404},
		{errors.New("plain"), nil, 0},
		{nil, nil, 0},
	} {
		if got := KindOf(tc.err); got != tc.kind {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.kind)
		}
		status, ok := KindStatus(tc.err)
		if status != tc.status || ok != (tc.kind != nil) {
			t.Errorf("KindStatus(%v) = %d, %v; want %d", tc.err, status, ok, tc.status)
		}
		if tc.kind != nil && KindFromStatus(tc.status) != tc.kind {
			t.Errorf("KindFromStatus(%d) = %v, want %v", tc.status, KindFromStatus(tc.status), tc.kind)
		}
	}
	if KindFromStatus(418) != nil {
		t.Errorf("a status of no kind names one")
	}
}

func TestDiskFullIsResourceExhausted(t *testing.T) {
	full := fmt.Errorf("load: receive the archive: %w: %w", &os.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, ErrInvalidArgument)
	if KindOf(full) != ErrResourceExhausted || KindName(full) != "resource_exhausted" {
		t.Errorf("a full disk is %v (%s), want resource exhausted", KindOf(full), KindName(full))
	}
	if status, _ := KindStatus(full); status != 507 {
		t.Errorf("a full disk answers %d, want 507 Insufficient Storage", status)
	}
}
