package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

func newPullCmd(o *rootOptions) *cobra.Command {
	var platform string
	cmd := &cobra.Command{
		Use:   "pull [--platform P] REF",
		Short: "Pull an image onto the runtime that will run it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := runtime.PullOptions{Policy: spec.PullAlways}
			if platform != "" {
				p, err := spec.ParsePlatform(platform)
				if err != nil {
					return fmt.Errorf("--platform: %w", err)
				}
				opts.Platform = &p
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			display := newPullDisplay(os.Stderr, isTerminal(os.Stderr), args[0])
			opts.Progress = display.update
			info, err := c.Pull(cmd.Context(), args[0], opts)
			display.close()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: pulled %s (%s, %s) on %s\n", info.Reference, info.Digest,
				imagePlatforms(info), humanSize(info.Size), strings.Join(info.Runtimes, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "pull this platform of a multi-platform image, e.g. linux/arm64")
	return cmd
}

// platformList formats platforms for a table cell.
func platformList(ps []ocispec.Platform) string {
	if len(ps) == 0 {
		return "unknown"
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = runtime.FormatPlatform(p)
	}
	return strings.Join(out, ",")
}

// imagePlatforms formats an image's platforms for a table cell: those
// present locally, then those its index lists that were not pulled.
func imagePlatforms(im runtime.ImageInfo) string {
	present := im.PresentPlatforms()
	var absent []ocispec.Platform
	for _, m := range im.Manifests {
		if !m.Present && m.Platform.OS != "" {
			absent = append(absent, m.Platform)
		}
	}
	out := platformList(present)
	if len(absent) > 0 {
		if len(present) == 0 {
			return "none pulled (" + platformList(absent) + ")"
		}
		out += " (not pulled: " + platformList(absent) + ")"
	}
	return out
}

func newImagesCmd(o *rootOptions) *cobra.Command {
	var format string
	var all bool
	cmd := &cobra.Command{
		Use:   "images [--all-platforms] [--format json]",
		Short: "List images on every runtime",
		Long: `List every image reference once, with its platforms: those present locally,
and those its index lists that were not pulled. --all-platforms lists one row
per platform instead, with the manifest's digest and whether it is present.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.ListImages(cmd.Context())
			if err != nil {
				return err
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Reference < list[j].Reference })
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			if all {
				fmt.Fprintln(tw, "REFERENCE\tPLATFORM\tDIGEST\tPRESENT\tSIZE")
				for _, im := range list {
					for _, m := range im.Manifests {
						size := "-"
						if m.Present {
							size = humanSize(m.Size)
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", im.Reference, platformList([]ocispec.Platform{m.Platform}), short(m.Digest), yesNo(m.Present), size)
					}
				}
				return tw.Flush()
			}
			fmt.Fprintln(tw, "REFERENCE\tDIGEST\tPLATFORMS\tSIZE\tRUNTIMES")
			for _, im := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", im.Reference, short(im.Digest), imagePlatforms(im), humanSize(im.Size), strings.Join(im.Runtimes, ","))
			}
			return tw.Flush()
		},
	}
	formatFlag(cmd, &format)
	cmd.Flags().BoolVar(&all, "all-platforms", false, "one row per platform, present or not")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newRmiCmd(o *rootOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rmi [-f] REF...",
		Short: "Remove images",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			for _, ref := range args {
				if err := c.RemoveImage(cmd.Context(), ref, force); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "Untagged:", ref)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove the image even if containers use it")
	return cmd
}

func newTagCmd(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SRC DST",
		Short: "Give an image another reference",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			return c.TagImage(cmd.Context(), args[0], args[1])
		},
	}
}

func newImageCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  cobra.NoArgs,
	}
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Remove images and layers that no tag or container uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			res, err := c.PruneImages(cmd.Context())
			if err != nil {
				return err
			}
			for _, d := range res.Deleted {
				fmt.Fprintln(cmd.OutOrStdout(), "Deleted:", d)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Total reclaimed space: %s\n", humanSize(int64(min(res.SpaceReclaimed, 1<<62))))
			return nil
		},
	}
	cmd.AddCommand(prune, newImagesCmd(o), newPullCmd(o), newRmiCmd(o), newTagCmd(o))
	return cmd
}
