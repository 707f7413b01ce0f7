package network

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// The chains that hold switchyard's rules, jumped to from the built-in
// ones: a network's forwarding and masquerading are set up once, when the
// network is made or the agent starts, not per container.
const (
	forwardChain = "SWITCHYARD-FORWARD"
	natChain     = "SWITCHYARD-POSTROUTING"
)

// rule is one iptables rule: its table, chain and match.
type rule struct {
	table, chain string
	spec         []string
}

// bridgeWildcard matches every bridge of switchyard's networks (sy0,
// sy-<hash>, and those an operator names with the sy prefix).
const bridgeWildcard = "sy+"

// networkRules are n's rules: its containers reach each other and what
// lies beyond the node's networks (masqueraded when it leaves by another
// interface); what comes back, and what a published port sends in, is
// forwarded to them; a new connection to another network's containers is
// dropped, as docker isolates its networks, unless it came through a
// published port.
func networkRules(n Network) []rule {
	comment := []string{"-m", "comment", "--comment", "switchyard network " + n.Name}
	return []rule{
		{"filter", forwardChain, append([]string{"-i", n.Bridge, "-o", n.Bridge, "-j", "ACCEPT"}, comment...)},
		{"filter", forwardChain, append([]string{"-i", n.Bridge, "!", "-o", bridgeWildcard, "-j", "ACCEPT"}, comment...)},
		{"filter", forwardChain, append([]string{"-o", n.Bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "ACCEPT"}, comment...)},
		{"filter", forwardChain, append([]string{"-i", n.Bridge, "-o", bridgeWildcard, "-m", "conntrack", "--ctstate", "NEW", "-m", "conntrack", "!", "--ctstate", "DNAT", "-j", "DROP"}, comment...)},
		{"nat", natChain, append([]string{"-s", n.Subnet.String(), "!", "-o", n.Bridge, "-j", "MASQUERADE"}, comment...)},
	}
}

// jumps are the rules that send traffic to switchyard's chains.
func jumps() []rule {
	return []rule{
		{"filter", "FORWARD", []string{"-j", forwardChain}},
		{"nat", "POSTROUTING", []string{"-j", natChain}},
	}
}

// ensureRules adds what of n's rules (and the jumps) is missing.
func ensureRules(ctx context.Context, n Network) error {
	for _, c := range []rule{{"filter", forwardChain, nil}, {"nat", natChain, nil}} {
		if err := iptables(ctx, "-t", c.table, "-S", c.chain); err != nil {
			if err := iptables(ctx, "-t", c.table, "-N", c.chain); err != nil {
				return err
			}
		}
	}
	for _, r := range jumps() {
		if err := ensure(ctx, r, "-I"); err != nil {
			return err
		}
	}
	for _, r := range networkRules(n) {
		if err := ensure(ctx, r, "-A"); err != nil {
			return err
		}
	}
	return nil
}

func ensure(ctx context.Context, r rule, add string) error {
	if iptables(ctx, append([]string{"-t", r.table, "-C", r.chain}, r.spec...)...) == nil {
		return nil
	}
	return iptables(ctx, append([]string{"-t", r.table, add, r.chain}, r.spec...)...)
}

// removeRules removes n's rules; rules already gone are fine.
func removeRules(ctx context.Context, n Network) error {
	for _, r := range networkRules(n) {
		for iptables(ctx, append([]string{"-t", r.table, "-C", r.chain}, r.spec...)...) == nil {
			if err := iptables(ctx, append([]string{"-t", r.table, "-D", r.chain}, r.spec...)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeChains removes the jumps and switchyard's chains, once no network
// has rules in them.
func removeChains(ctx context.Context) error {
	for _, r := range jumps() {
		for iptables(ctx, append([]string{"-t", r.table, "-C", r.chain}, r.spec...)...) == nil {
			if err := iptables(ctx, append([]string{"-t", r.table, "-D", r.chain}, r.spec...)...); err != nil {
				return err
			}
		}
	}
	for _, c := range []rule{{"filter", forwardChain, nil}, {"nat", natChain, nil}} {
		if iptables(ctx, "-t", c.table, "-S", c.chain) == nil {
			if err := iptables(ctx, "-t", c.table, "-X", c.chain); err != nil {
				return err
			}
		}
	}
	return nil
}

// iptables runs iptables, waiting for the xtables lock.
func iptables(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "iptables", append([]string{"-w", "5"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// deleteLink removes a network device; one that is not there is gone.
func deleteLink(name string) error {
	out, err := exec.Command("ip", "link", "delete", name).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("Cannot find device")) {
		return fmt.Errorf("ip link delete %s: %w: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// removeChainsIfUnused removes switchyard's chains when no rule is left in
// them (another agent on the host may still have networks).
func removeChainsIfUnused(ctx context.Context) error {
	for _, c := range []rule{{"filter", forwardChain, nil}, {"nat", natChain, nil}} {
		out, err := exec.CommandContext(ctx, "iptables", "-w", "5", "-t", c.table, "-S", c.chain).Output()
		if err != nil {
			continue // not there
		}
		if strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
			return nil // another agent's networks still use them
		}
	}
	if err := removeChains(ctx); err != nil {
		return err
	}
	return removePortmapChains(ctx)
}

// removePortmapChains removes the chains the portmap plugin shares between
// all its containers, once no container's rules are left in them: the
// plugin leaves them behind.
func removePortmapChains(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "iptables", "-w", "5", "-t", "nat", "-S", "CNI-HOSTPORT-DNAT").Output()
	if err != nil || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
		return nil // not there, or still in use
	}
	// The jumps portmap adds, then its chains, one by one: other
	// programs' rules in the table are left as they are.
	for _, r := range []rule{
		{"nat", "PREROUTING", []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"}},
		{"nat", "OUTPUT", []string{"-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"}},
		{"nat", "POSTROUTING", []string{"-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ"}},
	} {
		for iptables(ctx, append([]string{"-t", r.table, "-C", r.chain}, r.spec...)...) == nil {
			if err := iptables(ctx, append([]string{"-t", r.table, "-D", r.chain}, r.spec...)...); err != nil {
				return err
			}
		}
	}
	for _, c := range []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"} {
		if iptables(ctx, "-t", "nat", "-S", c) != nil {
			continue
		}
		if err := iptables(ctx, "-t", "nat", "-F", c); err != nil {
			return err
		}
		if err := iptables(ctx, "-t", "nat", "-X", c); err != nil {
			return err
		}
	}
	return nil
}
