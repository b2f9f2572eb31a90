// loadgen: the load of tests/soak/run.sh against the local control plane.
//
//	loadgen setup --server URL --ca F --cert F --key F --run ID --ns NS [--pods N] [--nodes N]
//	    ServiceAccounts web, api, worker; headless Services of those names
//	    and "db"; N Running pods (with IPs) in NS; N Nodes (with InternalIP
//	    and Hostname addresses) labelled LABEL_KEY=ID.
//	loadgen run [the same] --workload-signer S --rate R --seconds S
//	    [--keep S] [--drain S] [--inflight N] [--pid NAME=PID]... [--leader NAME]
//	    [--results FILE]
//	    Creates R CSRs a second for S seconds: two workload CSRs (each with
//	    its pod's bound token) for one kubelet-serving CSR (as its node,
//	    impersonated), one in ten built to be denied; follows them with a
//	    watch, deletes each KEEP seconds after it was seen decided, samples
//	    the named processes' /proc each second; then waits up to DRAIN
//	    seconds for the last decisions and prints the figures and checks.
//	loadgen check --results FILE [--audit F]... [--log F]...
//	    Each CSR of the results decided once across every audit log and
//	    every log (the "decided" lines), as the results want.
//
// Output: "CHECK ok DESC", "CHECK fail DESC<TAB>WHY" or "CHECK skip
// DESC<TAB>WHY" per check, and
// "# ..." lines of figures. Exit status 0 when every check passed, 1 when
// one failed, 2 on bad usage or when the run could not be made.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

type common struct {
	server, ca, cert, key string
	w                     world
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", "", "API server URL")
	fs.StringVar(&c.ca, "ca", "", "cluster CA certificate (PEM)")
	fs.StringVar(&c.cert, "cert", "", "admin client certificate (PEM)")
	fs.StringVar(&c.key, "key", "", "admin client key (PEM)")
	fs.StringVar(&c.w.run, "run", "", "run id: CSR and Node name prefix, label value")
	fs.StringVar(&c.w.ns, "ns", "", "namespace of the pods")
	fs.StringVar(&c.w.labelKey, "label-key", "csr-approver.test/run", "label key of what the run creates")
	fs.IntVar(&c.w.pods, "pods", 12, "pods")
	fs.IntVar(&c.w.nodes, "nodes", 6, "nodes")
}

func (c *common) check() error {
	if c.server == "" || c.ca == "" || c.cert == "" || c.key == "" || c.w.run == "" || c.w.ns == "" {
		return fmt.Errorf("--server, --ca, --cert, --key, --run and --ns are required")
	}
	if c.w.pods < 2 || c.w.nodes < 2 {
		return fmt.Errorf("--pods and --nodes must be at least 2 (a bad request names another's)")
	}
	return nil
}

var failed bool

func checkOK(desc string) { fmt.Printf("CHECK ok %s\n", desc) }
func checkFail(desc, why string) {
	failed = true
	fmt.Printf("CHECK fail %s\t%s\n", desc, strings.ReplaceAll(why, "\n", " "))
}
func checkSkip(desc, why string) { fmt.Printf("CHECK skip %s\t%s\n", desc, why) }
func check(desc string, ok bool, why string) {
	if ok {
		checkOK(desc)
	} else {
		checkFail(desc, why)
	}
}
func figure(format string, a ...any) { fmt.Printf("# "+format+"\n", a...) }

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", a...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: loadgen setup|run|check [flags] (see the comment at the top of main.go)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch os.Args[1] {
	case "setup":
		var c common
		fs := flag.NewFlagSet("setup", flag.ExitOnError)
		c.flags(fs)
		_ = fs.Parse(os.Args[2:])
		if err := c.check(); err != nil {
			die("setup: %v", err)
		}
		a, err := newAPI(c.server, c.ca, c.cert, c.key)
		if err != nil {
			die("setup: %v", err)
		}
		if err := c.w.setup(ctx, a); err != nil {
			die("setup: %v", err)
		}
	case "run":
		os.Exit(cmdRun(ctx, os.Args[2:]))
	case "check":
		os.Exit(cmdCheck(os.Args[2:]))
	default:
		die("unknown command %q: setup, run or check", os.Args[1])
	}
}

func parsePids(m multi) ([]*proc, error) {
	var ps []*proc
	for _, s := range m {
		name, v, ok := strings.Cut(s, "=")
		pid, err := strconv.Atoi(v)
		if !ok || err != nil || pid <= 0 || name == "" {
			return nil, fmt.Errorf("--pid %q: want NAME=PID", s)
		}
		ps = append(ps, &proc{name: name, pid: pid})
	}
	return ps, nil
}
