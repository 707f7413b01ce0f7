// Package depcheck holds only a test: it pins the direction of
// switchyard's package dependencies, so that a lower layer never starts
// importing a higher one (the spec and runtime contract stay free of HTTP,
// the CLI framework and the concrete runtimes).
package depcheck
