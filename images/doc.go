// Package images is switchyard's local image store: content-addressed blobs
// shared by every image, metadata (references, platforms, configs, layers,
// sizes) in a bbolt database, which containers use which image (in memory:
// each runtime records its containers' uses again when it starts, with
// Keep), and snapshots — every layer unpacked once — from which containers
// get overlay root filesystems.
//
// Layout under the store's root:
//
//	blobs/sha256/<hex>          manifests, configs and layers, verified on write
//	ingest/                     blobs being written (temp files, renamed when verified)
//	snapshots/<diffID hex>/fs   one unpacked layer, whiteouts in overlayfs form
//	containers/<key>/{upper,work}  each container's writable layer
//	meta.db                     references, images
//
// The registry package pulls into a Store with Write; runtimes give each
// container a root filesystem with PrepareRootfs and Rootfs.Mount, and give
// it back with ReleaseRootfs; when a runtime starts, it calls Keep for each
// container it has, so that the images they use stay protected.
//
//	st, err := images.Open(root)
//	if err != nil { return err }
//	defer st.Close()
//	rootfs, img, err := st.PrepareRootfs(ctx, "web-rep-0", "busybox")
//	if err != nil { return err }
//	if err := rootfs.Mount(bundle + "/rootfs"); err != nil { return err }
//
// # Removing and pruning
//
// Remove deletes a reference. When no reference and no container is left on
// the image, its record goes too and every blob and snapshot that no other
// image needs is deleted at once, as docker rmi does. Prune deletes images
// that have no reference and no container, then every blob and snapshot
// that no remaining image needs, and reports the bytes it freed.
//
// Errors wrap the kinds of package runtime: ErrNotFound for an unknown
// reference, ErrInvalidArgument for a reference that does not parse or
// content that fails verification, ErrFailedPrecondition for removing an
// image a container uses, ErrAlreadyExists for a second root filesystem
// under one key, and ErrUnavailable when another process holds the store.
package images
