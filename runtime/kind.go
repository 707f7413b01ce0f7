package runtime

import (
	"errors"
	"syscall"
)

// kindName pairs an error kind with its wire name and the HTTP status an
// answer of that kind carries.
type kindName struct {
	err    error
	name   string
	status int
}

// kindNames gives each error kind its wire name, in the order KindName
// tests them: an error that wraps two kinds is named by the first (the
// order of api.ToHTTP). The names are those of the HTTP API and of the
// reports the supervisors write, so that a kind crosses a process boundary
// as a word and comes back as the same sentinel. A function, not a
// variable, so that no caller can change the table.
//
// The statuses are those of the HTTP API and of the wasm host's socket
// (numbers, not net/http's names: the contract does not import HTTP).
func kindNames() [7]kindName {
	return [...]kindName{
		// First: a full disk is that, whatever the call wrapped it in.
		{ErrResourceExhausted, "resource_exhausted", 507},
		{ErrNotFound, "not_found", 404},
		{ErrAlreadyExists, "already_exists", 409},
		{ErrInvalidArgument, "invalid_argument", 400},
		{ErrNotSupported, "not_supported", 501},
		{ErrFailedPrecondition, "failed_precondition", 412},
		{ErrUnavailable, "unavailable", 503},
	}
}

// KindOf returns the error kind err wraps (ErrResourceExhausted, also for
// ENOSPC and EDQUOT; ErrNotFound, ErrAlreadyExists, ErrInvalidArgument,
// ErrNotSupported, ErrFailedPrecondition, ErrUnavailable; the first in that
// order), or nil when it wraps none. It is
// the one test of an error's kind: every edge that translates kinds (the
// API, the supervisors' reports, metrics labels) calls it or KindName.
func KindOf(err error) error {
	k, _ := kindOfErr(err)
	return k.err
}

// KindStatus returns the HTTP status of an answer of err's kind, and false
// when err wraps none of the kinds.
func KindStatus(err error) (int, bool) {
	k, ok := kindOfErr(err)
	return k.status, ok
}

// kindOfErr returns the table's row for the kind err wraps.
func kindOfErr(err error) (kindName, bool) {
	if err == nil {
		return kindName{}, false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return kindNames()[0], true // resource_exhausted
	}
	for _, k := range kindNames() {
		if errors.Is(err, k.err) {
			return k, true
		}
	}
	return kindName{}, false
}

// KindFromStatus returns the kind an HTTP status stands for when an answer
// names no kind (a proxy's error page, say), or nil when none does.
func KindFromStatus(status int) error {
	for _, k := range kindNames() {
		if k.status == status {
			return k.err
		}
	}
	return nil
}

// KindName returns the wire name of the error kind err wraps
// ("resource_exhausted", "not_found",
// "already_exists", "invalid_argument", "not_supported",
// "failed_precondition", "unavailable"), or "" when err is nil or wraps none
// of them. A *RouteToPeerError is not one of these kinds: it travels with
// its fields, which a name cannot carry.
func KindName(err error) string {
	k, _ := kindOfErr(err)
	return k.name
}

// KindFromName returns the kind named name by KindName, or nil for a name
// it does not know ("" included): a peer of a newer version may know more
// kinds, and the caller chooses what an unknown one means.
func KindFromName(name string) error {
	for _, k := range kindNames() {
		if k.name == name {
			return k.err
		}
	}
	return nil
}
