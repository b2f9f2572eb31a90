// Command csr-loadgen drives hack/bench-compare.sh: it sets up the objects
// the workloads need, creates CertificateSigningRequests the way kubelets
// and pods do (by impersonating them), and measures how an approver deals
// with them. It prints figures; it asserts nothing.
//
//	csr-loadgen nodes     --count N                  Nodes bench-node-NNNN (InternalIP 10.20.0.0/16, Hostname)
//	csr-loadgen pods      --count N --namespaces K   Pods bench-pod-N in namespaces bench-wl-K
//	csr-loadgen run       --kind serving|workload --count N [--rate R] ...
//	                      one workload; one JSON line of figures on stdout
//	csr-loadgen supervise --status FILE --summary FILE --port P [--readyz URL] -- CMD ARGS...
//	                      start an approver, time it to ready, sample its API connections
//	csr-loadgen cleanup                              delete every CSR labelled bench-run
//
// All subcommands take --kubeconfig (an identity allowed to impersonate:
// the cluster admin of hack/cluster.sh).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

const (
	runLabel       = "bench-run"
	servingSigner  = certv1.KubeletServingSignerName
	workloadSigner = "bench.example.com/workload"
	otherSigner    = "bench.example.com/other"
	wlNamespace    = "bench-wl-"
)

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "csr-loadgen: "+format+"\n", a...)
	os.Exit(1)
}

func client(kubeconfig, agent string) (*kubernetes.Clientset, *rest.Config) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		die("kubeconfig %s: %v", kubeconfig, err)
	}
	cfg.QPS = -1 // no client-side rate limit
	cfg.UserAgent = agent
	// No cfg.Timeout: it would end watches too; creates get their own deadline.
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		die("client: %v", err)
	}
	return cs, cfg
}

// watchClient: a client with a connection of its own (a Dial function
// keeps client-go from sharing the cached transport).
func watchClient(kubeconfig string) *kubernetes.Clientset {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		die("kubeconfig %s: %v", kubeconfig, err)
	}
	cfg.QPS = -1
	cfg.UserAgent = "csr-loadgen/watch"
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	cfg.Dial = d.DialContext
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		die("client: %v", err)
	}
	return cs
}

// parallel runs fn(0..n-1) on p goroutines; returns the first error.
func parallel(n, p int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < p; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func nodeName(i int) string { return fmt.Sprintf("bench-node-%04d", i) }

// nodeIP: 10.20.0.1 for node 0, and so on (never the network address).
func nodeIP(i int) net.IP { return net.IPv4(10, 20, byte((i+1)/256), byte((i+1)%256)) }

// ---------------------------------------------------------------- setup

func cmdNodes(args []string) {
	fs := flag.NewFlagSet("nodes", flag.ExitOnError)
	kc := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	count := fs.Int("count", 1000, "number of Nodes")
	_ = fs.Parse(args)
	if *count < 1 || *count > 65000 {
		die("nodes: --count must be 1..65000")
	}
	cs, _ := client(*kc, "csr-loadgen/setup")
	ctx := context.Background()
	have := map[string]bool{}
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "bench=node"})
	if err != nil {
		die("list nodes: %v", err)
	}
	for _, n := range list.Items {
		if len(n.Status.Addresses) > 0 {
			have[n.Name] = true
		}
	}
	err = parallel(*count, 16, func(i int) error {
		name := nodeName(i)
		if have[name] {
			return nil
		}
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{"bench": "node", "kubernetes.io/hostname": name}}}
		got, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			got, err = cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		}
		if err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		got.Status.Addresses = []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP(i).String()},
			{Type: corev1.NodeHostName, Address: name},
		}
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("node %s status: %w", name, err)
		}
		return nil
	})
	if err != nil {
		die("%v", err)
	}
	fmt.Printf("%d bench nodes (%d created)\n", *count, *count-len(have))
}

func cmdPods(args []string) {
	fs := flag.NewFlagSet("pods", flag.ExitOnError)
	kc := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	count := fs.Int("count", 10000, "number of Pods")
	nsn := fs.Int("namespaces", 10, "number of namespaces")
	_ = fs.Parse(args)
	if *count < 1 || *nsn < 1 {
		die("pods: --count and --namespaces must be positive")
	}
	cs, _ := client(*kc, "csr-loadgen/setup")
	ctx := context.Background()
	for k := 0; k < *nsn; k++ {
		ns := wlNamespace + strconv.Itoa(k)
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			die("namespace %s: %v", ns, err)
		}
		deadline := time.Now().Add(120 * time.Second)
		for {
			_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				die("namespace %s: no default ServiceAccount after 120 s", ns)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	have := map[string]bool{}
	list, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "bench=wl"})
	if err != nil {
		die("list pods: %v", err)
	}
	for _, p := range list.Items {
		have[p.Namespace+"/"+p.Name] = true
	}
	created := atomic.Int64{}
	err = parallel(*count, 16, func(i int) error {
		ns := wlNamespace + strconv.Itoa(i%*nsn)
		name := fmt.Sprintf("bench-pod-%d", i)
		if have[ns+"/"+name] {
			return nil
		}
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"bench": "wl"}},
			Spec: corev1.PodSpec{ServiceAccountName: "default",
				Containers: []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10"}}},
		}
		_, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("pod %s/%s: %w", ns, name, err)
		}
		created.Add(1)
		return nil
	})
	if err != nil {
		die("%v", err)
	}
	fmt.Printf("%d bench pods in %d namespaces (%d created)\n", *count, *nsn, created.Load())
}

// ---------------------------------------------------------------- CSRs

// request is one CSR ready to be sent: the object and who sends it.
type request struct {
	csr    *certv1.CertificateSigningRequest
	user   string
	groups []string
	extra  map[string]string
}

func csrPEM(key *ecdsa.PrivateKey, tmpl *x509.CertificateRequest) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

type pod struct{ ns, name, uid string }

// prepare builds n requests (keys and signatures made here, before any
// timing starts).
func prepare(kind, id string, n, nodes int, pods []pod) ([]request, error) {
	reqs := make([]request, n)
	err := parallel(n, 4, func(i int) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%s-%d", id, i)
		obj := &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{runLabel: id}}}
		r := request{csr: obj}
		switch kind {
		case "serving":
			node := nodeName(i % nodes)
			pemb, err := csrPEM(key, &x509.CertificateRequest{
				Subject:     pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}},
				DNSNames:    []string{node},
				IPAddresses: []net.IP{nodeIP(i % nodes)},
			})
			if err != nil {
				return err
			}
			obj.Spec = certv1.CertificateSigningRequestSpec{Request: pemb, SignerName: servingSigner,
				Usages: []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageServerAuth}}
			r.user, r.groups = "system:node:"+node, []string{"system:nodes"}
		case "workload":
			p := pods[i%len(pods)]
			u, _ := url.Parse("spiffe://cluster.local/ns/" + p.ns + "/sa/default")
			pemb, err := csrPEM(key, &x509.CertificateRequest{URIs: []*url.URL{u}})
			if err != nil {
				return err
			}
			obj.Spec = certv1.CertificateSigningRequestSpec{Request: pemb, SignerName: workloadSigner,
				Usages: []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}}
			r.user = "system:serviceaccount:" + p.ns + ":default"
			r.groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + p.ns}
			r.extra = map[string]string{"authentication.kubernetes.io/pod-name": p.name,
				"authentication.kubernetes.io/pod-uid": p.uid}
		default:
			return fmt.Errorf("unknown kind %q (serving or workload)", kind)
		}
		reqs[i] = r
		return nil
	})
	return reqs, err
}

// create sends one request, impersonating its requester when it has one.
func create(ctx context.Context, rc rest.Interface, r request) error {
	req := rc.Post().Resource("certificatesigningrequests").Body(r.csr)
	if r.user != "" {
		req = req.SetHeader("Impersonate-User", r.user)
		if len(r.groups) > 0 {
			req = req.SetHeader("Impersonate-Group", r.groups...)
		}
		for k, v := range r.extra {
			req = req.SetHeader("Impersonate-Extra-"+url.PathEscape(k), v)
		}
	}
	return req.Do(ctx).Error()
}

func decided(c *certv1.CertificateSigningRequest) (bool, bool) {
	for _, cond := range c.Status.Conditions {
		switch cond.Type {
		case certv1.CertificateApproved:
			return true, true
		case certv1.CertificateDenied, certv1.CertificateFailed:
			return true, false
		}
	}
	return false, false
}

// cpuTicks: utime+stime of a process, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return u + st, nil
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return -1
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

type result struct {
	Kind              string  `json:"kind"`
	Count             int     `json:"count"`
	Rate              float64 `json:"rate"`
	Decided           int     `json:"decided"`
	Approved          int     `json:"approved"`
	Denied            int     `json:"denied"`
	CreateErrors      int     `json:"create_errors"`
	MakespanS         float64 `json:"makespan_s"`
	CreateS           float64 `json:"create_s"`
	P50Ms             float64 `json:"p50_ms"`
	P99Ms             float64 `json:"p99_ms"`
	ApproverCPUMs     float64 `json:"approver_cpu_ms_per_decision"`
	APIServerCPUMs    float64 `json:"apiserver_cpu_ms_per_decision"`
	OtherCreates      int     `json:"other_creates"`
	OtherRate         float64 `json:"other_rate"`
	OtherErrors       int     `json:"other_errors"`
	OtherRateCreating float64 `json:"other_rate_while_creating"`
	OtherRateTail     float64 `json:"other_rate_after_creates"`
	TimedOut          bool    `json:"timed_out"`
	Relisted          int     `json:"decided_seen_in_relist"`
	WatchRestarts     int     `json:"watch_restarts"`
	ApproverCPUMsTo   float64 `json:"approver_cpu_ms"`
	APIServerCPUMsT   float64 `json:"apiserver_cpu_ms"`
}

func cmdRun(args []string) {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	kc := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig (may impersonate)")
	kind := fs.String("kind", "serving", "serving (kubelet-serving CSRs of the bench nodes) or workload (pod CSRs)")
	count := fs.Int("count", 1000, "CSRs to create")
	rate := fs.Float64("rate", 0, "CSRs per second (0: all at once, --parallel at a time)")
	par := fs.Int("parallel", 64, "creates in flight")
	nodes := fs.Int("nodes", 1000, "bench nodes to spread serving CSRs over")
	id := fs.String("id", "", "run id: CSR names and the bench-run label (required)")
	timeout := fs.Duration("timeout", 20*time.Minute, "give up waiting for decisions after this")
	approverPid := fs.Int("approver-pid", 0, "the approver's pid (CPU)")
	apiserverPid := fs.Int("apiserver-pid", 0, "kube-apiserver's pid (CPU)")
	clkTck := fs.Int("clk-tck", 100, "clock ticks per second (getconf CLK_TCK)")
	otherKC := fs.String("other-kubeconfig", "", "kubeconfig of a second client creating CSRs at full speed during the workload")
	otherPar := fs.Int("other-parallel", 8, "the second client's creates in flight")
	_ = fs.Parse(args)
	if *id == "" || *count < 1 || *par < 1 || *nodes < 1 || *rate < 0 {
		die("run: need --id, and positive --count, --parallel, --nodes")
	}
	cs, _ := client(*kc, "csr-loadgen/run")
	ctx := context.Background()

	var pods []pod
	if *kind == "workload" {
		list, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "bench=wl"})
		if err != nil {
			die("list pods: %v", err)
		}
		for _, p := range list.Items {
			pods = append(pods, pod{p.Namespace, p.Name, string(p.UID)})
		}
		if len(pods) == 0 {
			die("no bench pods (csr-loadgen pods first)")
		}
		sort.Slice(pods, func(a, b int) bool { return pods[a].ns+pods[a].name < pods[b].ns+pods[b].name })
	}
	reqs, err := prepare(*kind, *id, *count, *nodes, pods)
	if err != nil {
		die("prepare: %v", err)
	}

	// The watch, from the list's resourceVersion, before the first create,
	// on a connection of its own. The API server ends a watch whose reader
	// falls behind; on a busy machine that happens during a burst: the
	// watch is then listed and started again, and a decision first seen in
	// that list is timed at the list's arrival (later than it happened).
	wcs := watchClient(*kc)
	api := wcs.CertificatesV1().CertificateSigningRequests()
	sel := runLabel + "=" + *id
	list, err := api.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		die("list: %v", err)
	}
	// Decisions, by the arrival time of the first watch event that shows one.
	var dmu sync.Mutex
	decidedAt := make(map[string]time.Time, *count)
	var approved, denied, relisted, restarts int
	var last time.Time
	record := func(c *certv1.CertificateSigningRequest, now time.Time, fromList bool) {
		d, ok := decided(c)
		if !d {
			return
		}
		dmu.Lock()
		defer dmu.Unlock()
		if _, seen := decidedAt[c.Name]; seen {
			return
		}
		decidedAt[c.Name] = now
		last = now
		if ok {
			approved++
		} else {
			denied++
		}
		if fromList {
			relisted++
		}
	}
	wctx, wcancel := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		rv := list.ResourceVersion
		for wctx.Err() == nil {
			w, err := api.Watch(wctx, metav1.ListOptions{LabelSelector: sel, ResourceVersion: rv})
			if err == nil {
				for ev := range w.ResultChan() {
					now := time.Now()
					if ev.Type == watch.Error {
						rv = "" // too old, most likely: list again
						break
					}
					c, ok := ev.Object.(*certv1.CertificateSigningRequest)
					if !ok || (ev.Type != watch.Added && ev.Type != watch.Modified) {
						continue
					}
					rv = c.ResourceVersion
					record(c, now, false)
				}
				w.Stop()
			}
			if wctx.Err() != nil {
				return
			}
			dmu.Lock()
			restarts++
			dmu.Unlock()
			l, err := api.List(wctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			now := time.Now()
			for i := range l.Items {
				record(&l.Items[i], now, true)
			}
			rv = l.ResourceVersion
		}
	}()

	// The second client.
	var otherStop atomic.Bool
	var otherWG sync.WaitGroup
	var otherMu sync.Mutex
	var otherTimes []time.Time
	var otherErrs atomic.Int64
	if *otherKC != "" {
		ocs, _ := client(*otherKC, "csr-loadgen/other")
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pemb, err := csrPEM(key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench-other"}})
		if err != nil {
			die("other: %v", err)
		}
		var seq atomic.Int64
		for g := 0; g < *otherPar; g++ {
			otherWG.Add(1)
			go func() {
				defer otherWG.Done()
				for !otherStop.Load() {
					n := seq.Add(1)
					c := &certv1.CertificateSigningRequest{
						ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-other-%d", *id, n),
							Labels: map[string]string{runLabel: *id + "-other"}},
						Spec: certv1.CertificateSigningRequestSpec{Request: pemb, SignerName: otherSigner,
							Usages: []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}},
					}
					_, err := ocs.CertificatesV1().CertificateSigningRequests().Create(ctx, c, metav1.CreateOptions{})
					if err != nil {
						otherErrs.Add(1)
						continue
					}
					t := time.Now()
					otherMu.Lock()
					otherTimes = append(otherTimes, t)
					otherMu.Unlock()
				}
			}()
		}
	}

	var a0, s0 int64
	if *approverPid > 0 {
		if a0, err = cpuTicks(*approverPid); err != nil {
			die("%v", err)
		}
	}
	if *apiserverPid > 0 {
		if s0, err = cpuTicks(*apiserverPid); err != nil {
			die("%v", err)
		}
	}

	rc := cs.CertificatesV1().RESTClient()
	createdAt := make([]time.Time, *count)
	var createErrs atomic.Int64
	start := time.Now()
	doCreate := func(i int) {
		if err := create(ctx, rc, reqs[i]); err != nil {
			createErrs.Add(1)
			if createErrs.Load() <= 5 {
				fmt.Fprintf(os.Stderr, "csr-loadgen: create %s: %v\n", reqs[i].csr.Name, err)
			}
		}
		createdAt[i] = time.Now()
	}
	if *rate == 0 {
		_ = parallel(*count, *par, func(i int) error { doCreate(i); return nil })
	} else {
		sem := make(chan struct{}, *par)
		var wg sync.WaitGroup
		for i := 0; i < *count; i++ {
			at := start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))
			time.Sleep(time.Until(at))
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				doCreate(i)
				<-sem
			}(i)
		}
		wg.Wait()
	}
	created := time.Now()

	res := result{Kind: *kind, Count: *count, Rate: *rate, CreateErrors: int(createErrs.Load()),
		CreateS: created.Sub(start).Seconds()}
	var end time.Time
	expect := *count - res.CreateErrors
	deadline := time.Now().Add(*timeout)
	for {
		dmu.Lock()
		n, l := len(decidedAt), last
		dmu.Unlock()
		if n >= expect {
			end = l
			break
		}
		if time.Now().After(deadline) {
			res.TimedOut = true
			end = time.Now()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var a1, s1 int64
	if *approverPid > 0 {
		// The approver may still be writing what follows its decisions
		// (csr-approver sends Events after the approvals of a burst): its
		// CPU and the API server's are read once it has been idle for
		// 300 ms (at most 30 s after the last decision), so that this
		// work is counted, whoever does it.
		a1, _ = cpuTicks(*approverPid)
		for quiet := time.Now().Add(30 * time.Second); time.Now().Before(quiet); {
			time.Sleep(300 * time.Millisecond)
			a, err := cpuTicks(*approverPid)
			if err != nil || a == a1 {
				break
			}
			a1 = a
		}
	}
	if *apiserverPid > 0 {
		s1, _ = cpuTicks(*apiserverPid)
	}
	otherStop.Store(true)
	otherWG.Wait()
	wcancel()
	<-watchDone
	var lat []float64
	for i, r := range reqs {
		d, ok := decidedAt[r.csr.Name]
		if !ok {
			continue
		}
		l := d.Sub(createdAt[i]).Seconds() * 1000
		if l < 0 { // the watch event came before the create's answer
			l = 0
		}
		lat = append(lat, l)
	}
	sort.Float64s(lat)
	res.Decided, res.Approved, res.Denied = len(decidedAt), approved, denied
	res.Relisted, res.WatchRestarts = relisted, restarts
	res.MakespanS = end.Sub(start).Seconds()
	res.P50Ms, res.P99Ms = percentile(lat, 50), percentile(lat, 99)
	tick := 1000.0 / float64(*clkTck)
	if res.Decided > 0 {
		res.ApproverCPUMsTo = float64(a1-a0) * tick
		res.APIServerCPUMsT = float64(s1-s0) * tick
		res.ApproverCPUMs = res.ApproverCPUMsTo / float64(res.Decided)
		res.APIServerCPUMs = res.APIServerCPUMsT / float64(res.Decided)
	}
	if *otherKC != "" {
		n := 0
		for _, t := range otherTimes {
			if !t.Before(start) && !t.After(end) {
				n++
			}
		}
		res.OtherCreates = n
		// The same, split: while the workload's creates ran, and after
		// (when only the approver's work and the signer compete with it).
		nc, nt := 0, 0
		for _, t := range otherTimes {
			if !t.Before(start) && !t.After(created) {
				nc++
			} else if t.After(created) && !t.After(end) {
				nt++
			}
		}
		if d := created.Sub(start).Seconds(); d > 0 {
			res.OtherRateCreating = float64(nc) / d
		}
		if d := end.Sub(created).Seconds(); d > 0.5 {
			res.OtherRateTail = float64(nt) / d
		} else {
			res.OtherRateTail = -1 // too short a tail to say
		}
		res.OtherRate = float64(n) / end.Sub(start).Seconds()
		res.OtherErrors = int(otherErrs.Load())
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func cmdCleanup(args []string) {
	fs := flag.NewFlagSet("cleanup", flag.ExitOnError)
	kc := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	_ = fs.Parse(args)
	cs, _ := client(*kc, "csr-loadgen/cleanup")
	ctx := context.Background()
	api := cs.CertificatesV1().CertificateSigningRequests()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		list, err := api.List(ctx, metav1.ListOptions{LabelSelector: runLabel, Limit: 1})
		if err != nil {
			die("list: %v", err)
		}
		if len(list.Items) == 0 {
			return
		}
		if time.Now().After(deadline) {
			die("cleanup: CSRs labelled %s still there after 5 minutes", runLabel)
		}
		err = api.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: runLabel})
		if err != nil {
			fmt.Fprintf(os.Stderr, "csr-loadgen: deletecollection: %v\n", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ---------------------------------------------------------------- supervise

// connTracker finds the TCP connections of a process to one port: it lists
// the process's socket inodes at each sample and looks up in /proc/net/tcp
// (and tcp6) only the inodes it has not classified yet, so a sample costs
// little on a machine with many sockets.
type connTracker struct {
	pid, port int
	known     map[string]bool // inode -> a connection to port
	api       int             // distinct connections to port seen
	maxOpen   int
}

func (t *connTracker) sample() error {
	dir := fmt.Sprintf("/proc/%d/fd", t.pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var open []string
	unknown := false
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(l, "socket:[") {
			continue
		}
		ino := strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
		open = append(open, ino)
		if _, ok := t.known[ino]; !ok {
			unknown = true
		}
	}
	if unknown {
		want := fmt.Sprintf(":%04X", t.port)
		toPort := map[string]bool{}
		unconnected := map[string]bool{} // not connected yet: look again next time
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(b), "\n")[1:] {
				x := strings.Fields(line)
				if len(x) < 10 || x[3] == "0A" {
					continue
				}
				if strings.HasSuffix(x[2], want) {
					toPort[x[9]] = true
				} else if strings.Trim(x[2], "0:") == "" {
					unconnected[x[9]] = true
				}
			}
		}
		for _, ino := range open {
			if _, ok := t.known[ino]; !ok && !unconnected[ino] {
				t.known[ino] = toPort[ino]
				if toPort[ino] {
					t.api++
				}
			}
		}
	}
	n := 0
	for _, ino := range open {
		if t.known[ino] {
			n++
		}
	}
	if n > t.maxOpen {
		t.maxOpen = n
	}
	return nil
}

type status struct {
	Pid             int     `json:"pid"`
	ReadyMs         float64 `json:"ready_ms"`
	FirstDecisionMs float64 `json:"first_decision_ms"`
}

type summary struct {
	Conns    int    `json:"api_connections"`
	MaxConns int    `json:"api_connections_max_open"`
	Exit     string `json:"exit"`
}

func writeJSON(path string, v any) {
	b, _ := json.Marshal(v)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		die("%v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		die("%v", err)
	}
}

func cmdSupervise(args []string) {
	fs := flag.NewFlagSet("supervise", flag.ExitOnError)
	kc := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig (may impersonate)")
	statusF := fs.String("status", "", "file: pid and start-to-ready figures, written once known")
	summaryF := fs.String("summary", "", "file: connection counts, written when the approver exits")
	logF := fs.String("log", "/dev/null", "the approver's stdout and stderr")
	port := fs.Int("port", 0, "the API server's port")
	readyz := fs.String("readyz", "", "URL answering 200 once the approver is ready (optional)")
	id := fs.String("id", "", "run id (the pending CSR's name and label)")
	interval := fs.Duration("interval", 50*time.Millisecond, "connection sampling interval")
	_ = fs.Parse(args)
	cmdArgs := fs.Args()
	if *statusF == "" || *summaryF == "" || *port == 0 || *id == "" || len(cmdArgs) == 0 {
		die("supervise: need --status, --summary, --port, --id and a command")
	}
	cs, _ := client(*kc, "csr-loadgen/supervise")
	ctx := context.Background()

	// One pending kubelet-serving CSR, there before the approver starts.
	reqs, err := prepare("serving", *id, 1, 1, nil)
	if err != nil {
		die("prepare: %v", err)
	}
	if err := create(ctx, cs.CertificatesV1().RESTClient(), reqs[0]); err != nil {
		die("create the pending CSR: %v", err)
	}
	api := cs.CertificatesV1().CertificateSigningRequests()
	w, err := api.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", reqs[0].csr.Name).String()})
	if err != nil {
		die("watch: %v", err)
	}
	logFile, err := os.OpenFile(*logF, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		die("%v", err)
	}
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		die("start %s: %v", cmdArgs[0], err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()

	st := status{Pid: pid, ReadyMs: -1, FirstDecisionMs: -1}
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		timer := time.After(5 * time.Minute)
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				if c, isCSR := ev.Object.(*certv1.CertificateSigningRequest); isCSR {
					if d, _ := decided(c); d {
						mu.Lock()
						st.FirstDecisionMs = float64(time.Since(start).Microseconds()) / 1000
						mu.Unlock()
						w.Stop()
						return
					}
				}
			case <-timer:
				w.Stop()
				return
			}
		}
	}()
	if *readyz != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: time.Second}
			for time.Since(start) < 5*time.Minute {
				resp, err := hc.Get(*readyz)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						mu.Lock()
						st.ReadyMs = float64(time.Since(start).Microseconds()) / 1000
						mu.Unlock()
						return
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	readyDone := make(chan struct{})
	go func() {
		wg.Wait()
		mu.Lock()
		writeJSON(*statusF, st)
		mu.Unlock()
		close(readyDone)
	}()

	ct := &connTracker{pid: pid, port: *port, known: map[string]bool{}}
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	var exitErr error
loop:
	for {
		_ = ct.sample() // fails once the process is gone
		select {
		case exitErr = <-exited:
			break loop
		case <-tick.C:
		}
	}
	select {
	case <-readyDone:
	default:
		mu.Lock()
		writeJSON(*statusF, st)
		mu.Unlock()
	}
	exit := "0"
	if exitErr != nil {
		var ee *exec.ExitError
		if errors.As(exitErr, &ee) {
			exit = ee.String()
		} else {
			exit = exitErr.Error()
		}
	}
	writeJSON(*summaryF, summary{Conns: ct.api, MaxConns: ct.maxOpen, Exit: exit})
}

func main() {
	if v := os.Getenv("CSR_LOADGEN_KLOG_V"); v != "" { // client-go's own log, for debugging
		fs := flag.NewFlagSet("klog", flag.ExitOnError)
		klog.InitFlags(fs)
		_ = fs.Set("v", v)
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: csr-loadgen nodes|pods|run|supervise|cleanup [flags]  (see the source's first comment)")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "nodes":
		cmdNodes(os.Args[2:])
	case "pods":
		cmdPods(os.Args[2:])
	case "run":
		cmdRun(os.Args[2:])
	case "supervise":
		cmdSupervise(os.Args[2:])
	case "cleanup":
		cmdCleanup(os.Args[2:])
	default:
		die("unknown subcommand %q", os.Args[1])
	}
}
