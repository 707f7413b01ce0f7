// Package runtime defines the contract every switchyard runtime implements
// (runc, wasm, remote, the composite that routes between them, and the test
// fake), with the types and error kinds the contract speaks in.
//
// The contract is composed of small role interfaces (Identity, Lifecycle,
// Inspector, Waiter, LogReader, Executor, ImageService); a consumer depends
// on the role it needs, and only the composite and the API need the whole
// Runtime.
//
// Errors are values: test them with errors.Is against ErrNotFound,
// ErrAlreadyExists, ErrNotSupported, ErrInvalidArgument,
// ErrFailedPrecondition and ErrUnavailable, and with errors.As against
// *RouteToPeerError.
//
//	if err := rt.Start(ctx, id); errors.Is(err, runtime.ErrNotFound) {
//		// create it first
//	}
package runtime
