// Package version says which switchyard this is, for both binaries.
package version

import "runtime/debug"

// String returns the version: the module version the binary was built at,
// or "(devel)" for a build from a work tree.
func String() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
