// Package archive unpacks tar streams (plain, gzip or zstd) into a
// directory without ever writing outside it.
//
// Every file operation goes through an os.Root opened on the target, which
// refuses paths that resolve outside it: ".." components, symlinked parent
// directories that lead out, hard links to files outside. Entries whose
// names climb out of the target are refused with an error; absolute names
// are taken relative to the target, as tar itself does. Symbolic links are
// created as written (a link may point anywhere) but are never followed
// while extracting. Device nodes are skipped unless WithDevices allows
// them. Modes (setuid and setgid included), owners and modification times
// are applied. The uncompressed size is bounded (WithMaxSize).
//
// Whiteouts (".wh.NAME" and ".wh..wh..opq") are either applied — the named
// file is deleted, the directory emptied — or, with WithOverlayWhiteouts,
// converted to the form overlayfs reads: a 0/0 character device and the
// trusted.overlay.opaque=y extended attribute.
//
//	res, err := archive.Extract(ctx, layer, dir, archive.WithOverlayWhiteouts(), archive.WithMaxSize(1<<30))
package archive
