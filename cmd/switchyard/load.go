package main

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func newLoadCmd(o *rootOptions) *cobra.Command {
	var input string
	cmd := &cobra.Command{
		Use:   "load [-i PATH]",
		Short: "Load images from an OCI image layout (directory or tarball) or a docker save tarball",
		Long: `Load images into the daemon's store without a registry: an OCI image layout
directory or tarball, or a docker save tarball, from PATH or standard input.
The images keep their names (org.opencontainers.image.ref.name, RepoTags).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			archive, err := openArchive(input, cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer archive.Close()
			c, err := o.client()
			if err != nil {
				return err
			}
			imgs, err := c.Load(cmd.Context(), archive)
			if err != nil {
				return err
			}
			for _, img := range imgs {
				fmt.Fprintf(cmd.OutOrStdout(), "Loaded image: %s (%s, %s)\n", img.Reference, short(img.Digest), platformList(img.Platforms))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "archive or OCI layout directory to load (default: standard input)")
	return cmd
}

// openArchive opens what load sends: the file at path, a tar stream of the
// directory at path (an OCI layout), or stdin when path is empty.
func openArchive(path string, stdin io.Reader) (io.ReadCloser, error) {
	if path == "" {
		if f, ok := stdin.(*os.File); ok && isTerminal(f) {
			return nil, fmt.Errorf("load: no input; pass -i PATH or pipe an archive in (switchyard load < image.tar)")
		}
		return io.NopCloser(stdin), nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if !fi.IsDir() {
		return os.Open(path)
	}
	if _, err := os.Stat(path + "/oci-layout"); err != nil {
		return nil, fmt.Errorf("load: %s is a directory without an oci-layout file; give an OCI image layout or an archive", strings.TrimSuffix(path, "/"))
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := tw.AddFS(os.DirFS(path))
		if cerr := tw.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}
