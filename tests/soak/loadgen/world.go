package main

// The world the soak asks certificates in: ServiceAccounts, Services and
// Running pods in one namespace (no kubelet: their status is written as a
// kubelet would), and Nodes with addresses; and the requests each pod and
// node makes, good and bad, built once from one key per identity.
//
// Naming is a function of (run, namespace, sizes) only, so `setup` and
// `run` (two processes, with the controllers started between them) agree on
// it without sharing a file.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"strings"
)

const (
	workloadUsagesBoth = "digital signature,key encipherment,client auth,server auth"
	servingUsages      = "digital signature,server auth"
	// Outside kubelet-serving's {digital signature, key encipherment,
	// server auth}: UsageNotAllowed.
	servingUsagesBad = "digital signature,server auth,client auth"
	goodExpiration   = 3600
	// Over the workload policy's default maxExpirationSeconds (86400).
	badExpiration = 172800
	clusterDomain = "cluster.local"
)

var serviceAccounts = []string{"web", "api", "worker"}

type world struct {
	run, ns, labelKey string
	pods, nodes       int
}

func (w *world) podName(i int) string { return fmt.Sprintf("soak-p%d", i) }
func (w *world) podSA(i int) string   { return serviceAccounts[i%len(serviceAccounts)] }
func (w *world) podIP(i int) string   { return fmt.Sprintf("10.248.%d.%d", i/200, i%200+10) }
func (w *world) nodeName(j int) string {
	return fmt.Sprintf("%s-n%d", w.run, j)
}
func (w *world) nodeIP(j int) string { return fmt.Sprintf("10.249.%d.%d", j/200, j%200+10) }

func (w *world) labels() map[string]string { return map[string]string{w.labelKey: w.run} }

// setup creates the objects (what exists already is kept: a rerun of a
// half-made setup completes it).
func (w *world) setup(ctx context.Context, a *api) error {
	ns := url.PathEscape(w.ns)
	for _, sa := range serviceAccounts {
		if _, err := a.expect(ctx, "POST", "/api/v1/namespaces/"+ns+"/serviceaccounts",
			map[string]any{"metadata": map[string]any{"name": sa}}, reqOpts{}, 201, 409); err != nil {
			return err
		}
	}
	// Headless: the loopback cluster's service range is small. "db"
	// selects no pod of the soak: its name is one no pod may ask for.
	for _, s := range append(append([]string{}, serviceAccounts...), "db") {
		svc := map[string]any{
			"metadata": map[string]any{"name": s},
			"spec": map[string]any{"clusterIP": "None", "selector": map[string]string{"app": s},
				"ports": []map[string]any{{"port": 443}}},
		}
		if _, err := a.expect(ctx, "POST", "/api/v1/namespaces/"+ns+"/services", svc, reqOpts{}, 201, 409); err != nil {
			return err
		}
	}
	for i := 0; i < w.pods; i++ {
		pod := map[string]any{
			"metadata": map[string]any{"name": w.podName(i), "labels": map[string]string{"app": w.podSA(i)}},
			"spec": map[string]any{"serviceAccountName": w.podSA(i),
				"containers": []map[string]any{{"name": "main", "image": "registry.k8s.io/pause:3.10"}}},
		}
		if _, err := a.expect(ctx, "POST", "/api/v1/namespaces/"+ns+"/pods", pod, reqOpts{}, 201, 409); err != nil {
			return err
		}
		ip := w.podIP(i)
		st := map[string]any{"status": map[string]any{"phase": "Running", "podIP": ip,
			"podIPs":     []map[string]string{{"ip": ip}},
			"conditions": []map[string]string{{"type": "Ready", "status": "True"}}}}
		if _, err := a.expect(ctx, "PATCH", "/api/v1/namespaces/"+ns+"/pods/"+w.podName(i)+"/status", st,
			reqOpts{contentType: "application/merge-patch+json"}, 200); err != nil {
			return err
		}
	}
	for j := 0; j < w.nodes; j++ {
		n := w.nodeName(j)
		node := map[string]any{"metadata": map[string]any{"name": n,
			"labels": map[string]string{w.labelKey: w.run, "kubernetes.io/hostname": n}}}
		if _, err := a.expect(ctx, "POST", "/api/v1/nodes", node, reqOpts{}, 201, 409); err != nil {
			return err
		}
		st := map[string]any{"status": map[string]any{"addresses": []map[string]string{
			{"type": "InternalIP", "address": w.nodeIP(j)}, {"type": "Hostname", "address": n}}}}
		if _, err := a.expect(ctx, "PATCH", "/api/v1/nodes/"+n+"/status", st,
			reqOpts{contentType: "application/merge-patch+json"}, 200); err != nil {
			return err
		}
	}
	return nil
}

// A request as it is sent, and what the policy must answer.
type template struct {
	request    []byte
	usages     []string
	expiration int
	wantType   string // Approved or Denied
	wantReason string
	variant    string // for the figures: which kind of request
}

// identity: one pod or one node, its credentials and its requests.
type identity struct {
	workload    bool
	token       string // workload: the pod's bound token
	user        string // node: system:node:NAME, impersonated
	good        template
	bad         [4]template
	signer      string
	description string
}

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

type names struct {
	cn, o []string
	dns   []string
	ips   []string
	uris  []string
}

func buildCSR(key *ecdsa.PrivateKey, n names) ([]byte, error) {
	tpl := &x509.CertificateRequest{Subject: pkix.Name{Organization: n.o}, DNSNames: n.dns}
	if len(n.cn) > 0 {
		tpl.Subject.CommonName = n.cn[0]
	}
	for _, s := range n.ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("bad IP %q", s)
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		tpl.IPAddresses = append(tpl.IPAddresses, ip)
	}
	for _, s := range n.uris {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		tpl.URIs = append(tpl.URIs, u)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tpl, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

func tpl(key *ecdsa.PrivateKey, n names, usages string, exp int, wantType, wantReason, variant string) (template, error) {
	req, err := buildCSR(key, n)
	if err != nil {
		return template{}, err
	}
	return template{request: req, usages: strings.Split(usages, ","), expiration: exp,
		wantType: wantType, wantReason: wantReason, variant: variant}, nil
}

func spiffe(ns, sa string) string {
	return fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", clusterDomain, ns, sa)
}

// workloadNames: every name pod i owns under the default allowedNames.
func (w *world) workloadNames(i int) names {
	sa, ip := w.podSA(i), w.podIP(i)
	svc := fmt.Sprintf("%s.%s.svc", sa, w.ns)
	return names{cn: []string{svc},
		dns:  []string{svc, svc + "." + clusterDomain, strings.ReplaceAll(ip, ".", "-") + "." + w.ns + ".pod." + clusterDomain},
		ips:  []string{ip},
		uris: []string{spiffe(w.ns, sa)}}
}

func (w *world) workloadIdentity(i int, token, signer string) (*identity, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	id := &identity{workload: true, token: token, signer: signer,
		description: fmt.Sprintf("pod %s/%s", w.ns, w.podName(i))}
	good := w.workloadNames(i)
	if id.good, err = tpl(key, good, workloadUsagesBoth, goodExpiration, "Approved", "AutoApproved", "workload"); err != nil {
		return nil, err
	}
	// A Service that does not select the pod.
	n := good
	n.dns = append(append([]string{}, good.dns...), "db."+w.ns+".svc")
	if id.bad[0], err = tpl(key, n, workloadUsagesBoth, goodExpiration, "Denied", "SANNotAllowed", "workload-other-service"); err != nil {
		return nil, err
	}
	// Another pod's IP.
	n = good
	n.ips = []string{w.podIP((i + 1) % w.pods)}
	if id.bad[1], err = tpl(key, n, workloadUsagesBoth, goodExpiration, "Denied", "SANNotAllowed", "workload-other-ip"); err != nil {
		return nil, err
	}
	// Another ServiceAccount's SPIFFE ID.
	n = good
	n.uris = []string{spiffe(w.ns, serviceAccounts[(i+1)%len(serviceAccounts)])}
	if id.bad[2], err = tpl(key, n, workloadUsagesBoth, goodExpiration, "Denied", "SANNotAllowed", "workload-other-spiffe"); err != nil {
		return nil, err
	}
	// Its own names, for too long.
	if id.bad[3], err = tpl(key, good, workloadUsagesBoth, badExpiration, "Denied", "ExpirationNotAllowed", "workload-expiration"); err != nil {
		return nil, err
	}
	return id, nil
}

func (w *world) nodeIdentity(j int, signer string) (*identity, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	name, other := w.nodeName(j), (j+1)%w.nodes
	id := &identity{user: "system:node:" + name, signer: signer, description: "node " + name}
	good := names{cn: []string{"system:node:" + name}, o: []string{"system:nodes"},
		dns: []string{name}, ips: []string{w.nodeIP(j)}}
	if id.good, err = tpl(key, good, servingUsages, 0, "Approved", "AutoApproved", "serving"); err != nil {
		return nil, err
	}
	n := good
	n.ips = []string{w.nodeIP(other)}
	if id.bad[0], err = tpl(key, n, servingUsages, 0, "Denied", "SANNotAllowed", "serving-other-ip"); err != nil {
		return nil, err
	}
	n = good
	n.dns = []string{w.nodeName(other)}
	if id.bad[1], err = tpl(key, n, servingUsages, 0, "Denied", "SANNotAllowed", "serving-other-dns"); err != nil {
		return nil, err
	}
	// O system:masters besides system:nodes. (Another node's CN is
	// refused by the API server's NodeRestriction admission already: it
	// never reaches the controller.)
	n = good
	n.o = []string{"system:nodes", "system:masters"}
	if id.bad[2], err = tpl(key, n, servingUsages, 0, "Denied", "SubjectNotAllowed", "serving-system-masters"); err != nil {
		return nil, err
	}
	if id.bad[3], err = tpl(key, good, servingUsagesBad, 0, "Denied", "UsageNotAllowed", "serving-usage"); err != nil {
		return nil, err
	}
	return id, nil
}

// podToken asks the API server for a token of the pod's ServiceAccount
// bound to the pod (name and uid), as the kubelet does for a projected
// token: its claims give the CSR's spec.extra pod-name and pod-uid.
func (w *world) podToken(ctx context.Context, a *api, i int) (string, error) {
	ns := url.PathEscape(w.ns)
	rb, err := a.expect(ctx, "GET", "/api/v1/namespaces/"+ns+"/pods/"+w.podName(i), nil, reqOpts{}, 200)
	if err != nil {
		return "", err
	}
	var pod struct {
		Metadata struct{ UID string } `json:"metadata"`
	}
	if err := json.Unmarshal(rb, &pod); err != nil || pod.Metadata.UID == "" {
		return "", fmt.Errorf("pod %s: no uid in the answer", w.podName(i))
	}
	tr := map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
		"spec": map[string]any{"expirationSeconds": 7200,
			"boundObjectRef": map[string]string{"kind": "Pod", "apiVersion": "v1",
				"name": w.podName(i), "uid": pod.Metadata.UID}}}
	rb, err = a.expect(ctx, "POST", "/api/v1/namespaces/"+ns+"/serviceaccounts/"+w.podSA(i)+"/token", tr, reqOpts{}, 201, 200)
	if err != nil {
		return "", err
	}
	var ans struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := json.Unmarshal(rb, &ans); err != nil || ans.Status.Token == "" {
		return "", fmt.Errorf("pod %s: no token in the TokenRequest answer", w.podName(i))
	}
	return ans.Status.Token, nil
}
