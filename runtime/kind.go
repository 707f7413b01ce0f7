package runtime

import "errors"

// kindName pairs an error kind with its wire name.
type kindName struct {
	err  error
	name string
}

// kindNames gives each error kind its wire name, in the order KindName
// tests them: an error that wraps two kinds is named by the first (the
// order of api.ToHTTP). The names are those of the HTTP API and of the
// reports the supervisors write, so that a kind crosses a process boundary
// as a word and comes back as the same sentinel. A function, not a
// variable, so that no caller can change the table.
func kindNames() [6]kindName {
	return [...]kindName{
		{ErrNotFound, "not_found"},
		{ErrAlreadyExists, "already_exists"},
		{ErrInvalidArgument, "invalid_argument"},
		{ErrNotSupported, "not_supported"},
		{ErrFailedPrecondition, "failed_precondition"},
		{ErrUnavailable, "unavailable"},
	}
}

// KindName returns the wire name of the error kind err wraps ("not_found",
// "already_exists", "invalid_argument", "not_supported",
// "failed_precondition", "unavailable"), or "" when err is nil or wraps none
// of them. A *RouteToPeerError is not one of these kinds: it travels with
// its fields, which a name cannot carry.
func KindName(err error) string {
	if err == nil {
		return ""
	}
	for _, k := range kindNames() {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return ""
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
