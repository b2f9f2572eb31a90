// Command csr-floor is the floor of hack/bench-compare.sh: an approver that
// approves every pending CertificateSigningRequest of the given signers
// without looking at it. It shows what approving costs the API server when
// nothing is checked, so a real approver's figures can be read against it.
// Never run it on a cluster that matters: it approves anything.
//
//	csr-floor --kubeconfig FILE [--workers N] [--signers a,b]
//
// One watch (list, then watch from its resourceVersion, listed again when
// the watch ends) feeds a queue; N workers each write the Approved
// condition through the approval subresource, with the object from the
// watch (no GET). A conflict re-reads the CSR once and tries again.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type floor struct {
	cs      kubernetes.Interface
	signers map[string]bool
	queue   chan *certv1.CertificateSigningRequest
	mu      sync.Mutex
	seen    map[string]bool // names queued or approved (by uid+name)
}

func pending(c *certv1.CertificateSigningRequest) bool {
	for _, cond := range c.Status.Conditions {
		switch cond.Type {
		case certv1.CertificateApproved, certv1.CertificateDenied, certv1.CertificateFailed:
			return false
		}
	}
	return true
}

func (f *floor) offer(c *certv1.CertificateSigningRequest) {
	if !f.signers[c.Spec.SignerName] || !pending(c) {
		return
	}
	key := string(c.UID)
	f.mu.Lock()
	dup := f.seen[key]
	f.seen[key] = true
	f.mu.Unlock()
	if !dup {
		f.queue <- c
	}
}

func (f *floor) forget(c *certv1.CertificateSigningRequest) {
	f.mu.Lock()
	delete(f.seen, string(c.UID))
	f.mu.Unlock()
}

func (f *floor) approve(ctx context.Context, c *certv1.CertificateSigningRequest) {
	for attempt := 0; attempt < 2; attempt++ {
		c = c.DeepCopy()
		c.Status.Conditions = append(c.Status.Conditions, certv1.CertificateSigningRequestCondition{
			Type:           certv1.CertificateApproved,
			Status:         corev1.ConditionTrue,
			Reason:         "Floor",
			Message:        "approved without any check (benchmark floor)",
			LastUpdateTime: metav1.Now(),
		})
		_, err := f.cs.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, c.Name, c, metav1.UpdateOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return
		}
		if !apierrors.IsConflict(err) {
			fmt.Fprintf(os.Stderr, "csr-floor: approve %s: %v\n", c.Name, err)
			f.forget(c) // the next event for it queues it again
			return
		}
		fresh, gerr := f.cs.CertificatesV1().CertificateSigningRequests().Get(ctx, c.Name, metav1.GetOptions{})
		if gerr != nil || !pending(fresh) {
			return
		}
		c = fresh
	}
}

func (f *floor) watchLoop(ctx context.Context) error {
	api := f.cs.CertificatesV1().CertificateSigningRequests()
	for ctx.Err() == nil {
		list, err := api.List(ctx, metav1.ListOptions{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "csr-floor: list: %v\n", err)
			time.Sleep(time.Second)
			continue
		}
		for i := range list.Items {
			f.offer(&list.Items[i])
		}
		w, err := api.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, AllowWatchBookmarks: true})
		if err != nil {
			fmt.Fprintf(os.Stderr, "csr-floor: watch: %v\n", err)
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			c, ok := ev.Object.(*certv1.CertificateSigningRequest)
			if !ok {
				continue
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				f.offer(c)
			case watch.Deleted:
				f.forget(c)
			}
		}
		w.Stop()
	}
	return ctx.Err()
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	workers := flag.Int("workers", 1, "parallel approval writers")
	signers := flag.String("signers", certv1.KubeletServingSignerName, "comma-separated signerNames to approve")
	flag.Parse()
	if *workers < 1 || *workers > 1024 {
		fmt.Fprintln(os.Stderr, "csr-floor: --workers must be 1..1024")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "csr-floor: kubeconfig %s: %v\n", *kubeconfig, err)
		os.Exit(2)
	}
	cfg.QPS = -1 // no client-side rate limit: the API server's fairness decides
	cfg.UserAgent = "csr-floor"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "csr-floor: %v\n", err)
		os.Exit(2)
	}
	f := &floor{cs: cs, signers: map[string]bool{}, queue: make(chan *certv1.CertificateSigningRequest, 1<<16),
		seen: map[string]bool{}}
	for _, s := range strings.Split(*signers, ",") {
		if s != "" {
			f.signers[s] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case c := <-f.queue:
					f.approve(ctx, c)
				}
			}
		}()
	}
	_ = f.watchLoop(ctx)
	wg.Wait()
}
