// gen_go_csr writes certificate requests made by Go's crypto/x509, the
// library kubelets and most Kubernetes clients use, into the directory given
// as its argument. Run by generate.sh when a Go toolchain is installed.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log"
	"net"
	"net/url"
	"os"
	"path/filepath"
)

func write(dir, name string, tmpl *x509.CertificateRequest, key crypto.Signer) {
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}); err != nil {
		log.Fatal(err)
	}
}

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gen_go_csr DIR")
	}
	dir := os.Args[1]
	node := pkix.Name{CommonName: "system:node:node-1", Organization: []string{"system:nodes"}}

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	// As the kubelet asks for its serving and client certificates.
	write(dir, "go-kubelet-serving.pem", &x509.CertificateRequest{
		Subject:     node,
		DNSNames:    []string{"node-1"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.11"), net.ParseIP("fd00::11")},
	}, ec)
	write(dir, "go-kubelet-client.pem", &x509.CertificateRequest{Subject: node}, ec)

	spiffe, _ := url.Parse("spiffe://cluster.local/ns/shop/sa/web")
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	write(dir, "go-workload-ed25519.pem", &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: "10-244-1-7.shop.pod.cluster.local"},
		DNSNames:    []string{"10-244-1-7.shop.pod.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("10.244.1.7")},
		URIs:        []*url.URL{spiffe},
	}, ed)

	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	write(dir, "go-rsa-pss.pem", &x509.CertificateRequest{
		Subject:            pkix.Name{CommonName: "web.shop.svc"},
		DNSNames:           []string{"web.shop.svc"},
		SignatureAlgorithm: x509.SHA256WithRSAPSS,
	}, rk)
}
