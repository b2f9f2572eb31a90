/*
 * gen_csr: builds the hostile certificate requests that the openssl command
 * line cannot, for tests/testdata/generate.sh. Not part of csr-approver.
 *
 *   gen_csr CASE KEY [KEY2]   a request built from scratch, signed with KEY
 *   gen_csr CASE IN.pem       a request derived from IN.pem by editing bytes
 *
 * The PEM goes to stdout. Build: cc -std=c11 gen_csr.c -lcrypto
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void die(const char *what)
{
	fprintf(stderr, "gen_csr: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* ---- a tiny DER writer ---- */

/* Room for a request at the 64 KiB PEM limit (about 48 KiB of DER). */
struct der {
	unsigned char b[65536];
	size_t n;
};

static void der_raw(struct der *d, const void *p, size_t n)
{
	if (d->n + n > sizeof(d->b))
		die("DER buffer full");
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

/* tag, minimal definite length, content */
static void der_tlv(struct der *d, unsigned char tag, const void *p, size_t n)
{
	unsigned char h[6];
	size_t hn = 0;
	h[hn++] = tag;
	if (n < 0x80) {
		h[hn++] = (unsigned char)n;
	} else if (n < 0x100) {
		h[hn++] = 0x81;
		h[hn++] = (unsigned char)n;
	} else {
		h[hn++] = 0x82;
		h[hn++] = (unsigned char)(n >> 8);
		h[hn++] = (unsigned char)n;
	}
	der_raw(d, h, hn);
	der_raw(d, p, n);
}

static void der_wrap(struct der *d, unsigned char tag, const struct der *inner)
{
	der_tlv(d, tag, inner->b, inner->n);
}

static void der_oid(struct der *d, const char *dotted)
{
	ASN1_OBJECT *o = OBJ_txt2obj(dotted, 1);
	unsigned char *p = NULL;
	if (o == NULL)
		die("bad OID");
	int n = i2d_ASN1_OBJECT(o, &p);
	if (n <= 0)
		die("i2d OID");
	der_raw(d, p, (size_t)n);
	OPENSSL_free(p);
	ASN1_OBJECT_free(o);
}

/* Extension ::= SEQUENCE { extnID, critical (only when crit >= 0), extnValue } */
static void der_ext(struct der *d, const char *oid, int crit, const struct der *value)
{
	struct der e = {0};
	der_oid(&e, oid);
	if (crit >= 0) {
		unsigned char b = crit ? 0xff : 0x00;
		der_tlv(&e, 0x01, &b, 1);
	}
	der_tlv(&e, 0x04, value->b, value->n);
	der_wrap(d, 0x30, &e);
}

/* A SAN value: GeneralNames with one dNSName. */
static void der_san_dns(struct der *d, const char *name, size_t n)
{
	struct der g = {0};
	der_tlv(&g, 0x82, name, n);
	der_wrap(d, 0x30, &g);
}

/* ---- requests ---- */

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(path);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		die("cannot read key");
	return k;
}

static X509_REQ *load_req(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(path);
	X509_REQ *r = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	if (r == NULL)
		die("cannot read request");
	return r;
}

static X509_REQ *new_req(EVP_PKEY *key, const char *cn)
{
	X509_REQ *req = X509_REQ_new();
	if (req == NULL || !X509_REQ_set_version(req, 0) || !X509_REQ_set_pubkey(req, key))
		die("X509_REQ_new");
	if (cn != NULL &&
	    !X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName,
	                                V_ASN1_UTF8STRING, (const unsigned char *)cn, -1, -1, 0))
		die("subject");
	return req;
}

static void add_cn(X509_REQ *req, int type, const void *bytes, size_t n)
{
	if (!X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName, type, bytes,
	                                (int)n, -1, 0))
		die("subject entry");
}

/* An extensionRequest attribute with the raw SEQUENCE OF Extension in exts. */
static void add_ext_req_raw(X509_REQ *req, int nid, const struct der *exts)
{
	if (!X509_REQ_add1_attr_by_NID(req, nid, V_ASN1_SEQUENCE, exts->b, (int)exts->n))
		die("add attribute");
}

static void add_san_ext_req(X509_REQ *req, const char *dns)
{
	struct der v = {0}, e = {0}, s = {0};
	der_san_dns(&v, dns, strlen(dns));
	der_ext(&e, "2.5.29.17", -1, &v);
	der_wrap(&s, 0x30, &e);
	add_ext_req_raw(req, NID_ext_req, &s);
}

static void sign_print(X509_REQ *req, EVP_PKEY *key)
{
	const EVP_MD *md =
	    EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448") ? NULL : EVP_sha256();
	if (X509_REQ_sign(req, key, md) <= 0)
		die("sign");
	if (!PEM_write_X509_REQ(stdout, req))
		die("write");
}

static void print_der(const unsigned char *der, long n)
{
	if (!PEM_write(stdout, "CERTIFICATE REQUEST", "", der, n))
		die("write");
}

/*
 * Print a request whose signed part is tbs (tbslen bytes), signed with key
 * (SHA-256) under the signature algorithm req was signed with.
 */
static void sign_raw_print(X509_REQ *req, EVP_PKEY *key, const unsigned char *tbs, int tbslen)
{
	unsigned char *alg = NULL, *sig = NULL;
	size_t siglen = 0;
	const X509_ALGOR *palg = NULL;
	struct der body = {0}, bits = {0}, whole = {0};
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int alglen;

	X509_REQ_get0_signature(req, NULL, &palg);
	alglen = i2d_X509_ALGOR(palg, &alg);
	if (ctx == NULL || alglen <= 0 ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, tbs, (size_t)tbslen) != 1 ||
	    (sig = OPENSSL_malloc(siglen + 1)) == NULL ||
	    EVP_DigestSign(ctx, sig + 1, &siglen, tbs, (size_t)tbslen) != 1)
		die("re-sign");
	sig[0] = 0; /* no unused bits */
	der_raw(&body, tbs, (size_t)tbslen);
	der_raw(&body, alg, (size_t)alglen);
	der_tlv(&bits, 0x03, sig, siglen + 1);
	der_raw(&body, bits.b, bits.n);
	der_wrap(&whole, 0x30, &body);
	print_der(whole.b, (long)whole.n);
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(sig);
	OPENSSL_free(alg);
}

/*
 * Sign req, then replace the n bytes from (first occurrence) by to in its
 * signed part, sign that again with key (SHA-256) and print the result: for
 * structures the OpenSSL API refuses to build.
 */
static void patch_sign_print(X509_REQ *req, EVP_PKEY *key, const void *from, const void *to,
                             size_t n)
{
	unsigned char *tbs = NULL;
	int i, tbslen;

	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		die("sign");
	tbslen = i2d_re_X509_REQ_tbs(req, &tbs);
	if (tbslen <= 0)
		die("tbs");
	for (i = 0; i + (int)n <= tbslen; i++) {
		if (memcmp(tbs + i, from, n) == 0)
			break;
	}
	if (i + (int)n > tbslen)
		die("patch: pattern not found");
	memcpy(tbs + i, to, n);
	sign_raw_print(req, key, tbs, tbslen);
	OPENSSL_free(tbs);
}

/* Header and content bytes of the TLV at p (avail bytes; a length of at
 * most two bytes, as in any request here). */
static void tlv_parts(const unsigned char *p, size_t avail, size_t *hdr, size_t *len)
{
	if (avail < 2)
		die("tlv: truncated");
	if (p[1] < 0x80) {
		*hdr = 2;
		*len = p[1];
	} else if (p[1] == 0x81 && avail >= 3) {
		*hdr = 3;
		*len = p[2];
	} else if (p[1] == 0x82 && avail >= 4) {
		*hdr = 4;
		*len = (size_t)p[2] << 8 | p[3];
	} else {
		die("tlv: unexpected length");
	}
	if (*hdr + *len > avail)
		die("tlv: runs past the end");
}

/*
 * Sign req, then replace element idx of its signed part (0 version,
 * 1 subject, 2 SubjectPublicKeyInfo, 3 attributes) by repl, sign that with
 * key (SHA-256) and print the result: the new element may differ in length.
 */
static void splice_sign_print(X509_REQ *req, EVP_PKEY *key, int idx, const struct der *repl)
{
	unsigned char *tbs = NULL;
	struct der body = {0}, out = {0};
	int tbslen;

	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		die("sign");
	tbslen = i2d_re_X509_REQ_tbs(req, &tbs);
	if (tbslen <= 0)
		die("tbs");
	size_t off, len, hdr, end;
	tlv_parts(tbs, (size_t)tbslen, &off, &len);
	end = off + len;
	for (int i = 0; off < end; i++) {
		tlv_parts(tbs + off, end - off, &hdr, &len);
		if (i == idx)
			der_raw(&body, repl->b, repl->n);
		else
			der_raw(&body, tbs + off, hdr + len);
		off += hdr + len;
	}
	der_wrap(&out, 0x30, &body);
	sign_raw_print(req, key, out.b, (int)out.n);
	OPENSSL_free(tbs);
}

/* A DER INTEGER of the big-endian magnitude m (n bytes) with extra zero
 * bytes in front of the one DER asks for (extra 0: minimal). */
static void der_uint(struct der *d, const unsigned char *m, size_t n, int extra)
{
	struct der c = {0};
	static const unsigned char zero = 0;
	int pad = (n > 0 && (m[0] & 0x80)) ? 1 : 0;
	for (int i = 0; i < pad + extra; i++)
		der_raw(&c, &zero, 1);
	der_raw(&c, m, n);
	der_wrap(d, 0x02, &c);
}

/*
 * A SubjectPublicKeyInfo for the RSA key: the modulus with extra_zeros
 * more leading zeros than DER allows, the rsaEncryption parameters NULL
 * or (null_params 0) left out, and trailing bytes after the RSAPublicKey
 * inside the BIT STRING.
 */
static void rsa_spki(struct der *out, EVP_PKEY *key, int extra_zeros, int null_params,
                     size_t trailing)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char nb[1024], eb[16];
	struct der ints = {0}, rsa = {0}, alg = {0}, algseq = {0}, bits = {0}, spki = {0};
	static const unsigned char nul[2] = {0x05, 0x00};
	static const unsigned char zeros[16] = {0};

	if (EVP_PKEY_get_bn_param(key, "n", &n) != 1 || EVP_PKEY_get_bn_param(key, "e", &e) != 1 ||
	    BN_num_bytes(n) > (int)sizeof(nb) || BN_num_bytes(e) > (int)sizeof(eb) ||
	    trailing > sizeof(zeros))
		die("rsa_spki: not an RSA key");
	int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
	der_uint(&ints, nb, (size_t)nl, extra_zeros);
	der_uint(&ints, eb, (size_t)el, 0);
	der_wrap(&rsa, 0x30, &ints);
	der_raw(&rsa, zeros, trailing);
	der_oid(&alg, "1.2.840.113549.1.1.1");
	if (null_params)
		der_raw(&alg, nul, sizeof(nul));
	der_wrap(&algseq, 0x30, &alg);
	der_raw(&bits, zeros, 1); /* no unused bits */
	der_raw(&bits, rsa.b, rsa.n);
	der_raw(&spki, algseq.b, algseq.n);
	der_wrap(&spki, 0x03, &bits);
	der_wrap(out, 0x30, &spki);
	BN_free(n);
	BN_free(e);
}

/* ---- cases from scratch ---- */

static void build(const char *name, EVP_PKEY *key, EVP_PKEY *key2)
{
	X509_REQ *req = NULL;
	EVP_PKEY *signer = key;

	if (strcmp(name, "attr-two-extreq") == 0) {
		/* OpenSSL refuses a second extensionRequest: add the second under
		 * 1.2.840.113549.1.9.15, an OID of the same length, and patch its
		 * last byte. The shorter attribute sorts first either way. */
		static const unsigned char from[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
		                                     0x0d, 0x01, 0x09, 0x0f};
		static const unsigned char to[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
		                                   0x0d, 0x01, 0x09, 0x0e};
		struct der v = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		add_san_ext_req(req, "web.shop.svc");
		der_san_dns(&v, "admin.shop.svc", 14);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_SMIMECapabilities, &s);
		patch_sign_print(req, key, from, to, sizeof(from));
		X509_REQ_free(req);
		return;
	} else if (strcmp(name, "attr-extreq-two-values") == 0) {
		struct der v = {0}, e = {0}, s = {0};
		ASN1_STRING *first = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
		X509_ATTRIBUTE *a = NULL;
		req = new_req(key, "web.shop.svc");
		der_san_dns(&v, "web.shop.svc", 12);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		if (first == NULL || !ASN1_STRING_set(first, s.b, (int)s.n))
			die("string");
		a = X509_ATTRIBUTE_create(NID_ext_req, V_ASN1_SEQUENCE, first);
		if (a == NULL || !X509_ATTRIBUTE_set1_data(a, V_ASN1_SEQUENCE, s.b, (int)s.n) ||
		    !X509_REQ_add1_attr(req, a))
			die("attribute");
		X509_ATTRIBUTE_free(a);
	} else if (strcmp(name, "attr-extreq-empty") == 0) {
		struct der s = {0};
		req = new_req(key, "web.shop.svc");
		der_tlv(&s, 0x30, "", 0);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "attr-ms-extreq") == 0) {
		/* Microsoft's older extension-request attribute: a plain
		 * attribute here, never a source of extensions. */
		struct der v = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		der_san_dns(&v, "web.shop.svc", 12);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ms_ext_req, &s);
	} else if (strcmp(name, "ext-two-san") == 0) {
		struct der v1 = {0}, v2 = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		der_san_dns(&v1, "web.shop.svc", 12);
		der_san_dns(&v2, "admin.shop.svc", 14);
		der_ext(&e, "2.5.29.17", -1, &v1);
		der_ext(&e, "2.5.29.17", -1, &v2);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "ext-critical-false-explicit") == 0) {
		/* basicConstraints CA:FALSE with critical FALSE written out: a
		 * default value, which DER omits. */
		struct der v = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		der_tlv(&v, 0x30, "", 0);
		der_ext(&e, "2.5.29.19", 0, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "ext-san-ber") == 0) {
		/* GeneralNames with a long-form length where the short form is due. */
		static const char dns[] = "web.shop.svc";
		struct der v = {0}, g = {0}, e = {0}, s = {0};
		unsigned char hdr[3] = {0x30, 0x81, 0};
		req = new_req(key, "web.shop.svc");
		der_tlv(&g, 0x82, dns, strlen(dns));
		hdr[2] = (unsigned char)g.n;
		der_raw(&v, hdr, 3);
		der_raw(&v, g.b, g.n);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "ext-san-garbage") == 0) {
		/* Valid DER, but an INTEGER where GeneralNames belongs. */
		static const unsigned char integer[] = {0x02, 0x01, 0x05};
		struct der v = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		der_raw(&v, integer, sizeof(integer));
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "san-1000") == 0) {
		/* The workload's own names, 1000 in all: only the count is wrong. */
		static const char uri[] = "spiffe://cluster.local/ns/shop/sa/web";
		static const char *const dns[] = {"web.shop.svc", "web.shop.svc.cluster.local",
		                                  "10-244-1-7.shop.pod.cluster.local"};
		static const unsigned char ip[] = {10, 244, 1, 7};
		static struct der g, v, e, s;
		req = new_req(key, NULL);
		der_tlv(&g, 0x86, uri, strlen(uri));
		for (int i = 1; i < 1000; i++) {
			if (i % 4 == 3)
				der_tlv(&g, 0x87, ip, sizeof(ip));
			else
				der_tlv(&g, 0x82, dns[i % 4], strlen(dns[i % 4]));
		}
		der_wrap(&v, 0x30, &g);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "san-max") == 0) {
		/* As many SANs as fit in a request under the 64 KiB PEM limit:
		 * empty DNS names, two bytes each. */
		static struct der g, v, e, s;
		req = new_req(key, NULL);
		for (int i = 0; i < 23900; i++)
			der_tlv(&g, 0x82, "", 0);
		der_wrap(&v, 0x30, &g);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "subj-empty-rdn") == 0) {
		/* Name ::= SEQUENCE { SET { CN=web.shop.svc }, SET {} } */
		static const char cn[] = "web.shop.svc";
		struct der atv = {0}, seq = {0}, rdns = {0}, nm = {0}, empty = {0};
		der_oid(&atv, "2.5.4.3");
		der_tlv(&atv, 0x0c, cn, strlen(cn));
		der_wrap(&seq, 0x30, &atv);
		der_wrap(&rdns, 0x31, &seq);
		der_wrap(&rdns, 0x31, &empty);
		der_wrap(&nm, 0x30, &rdns);
		req = new_req(key, "web.shop.svc");
		add_san_ext_req(req, "web.shop.svc");
		splice_sign_print(req, key, 1, &nm);
		X509_REQ_free(req);
		return;
	} else if (strcmp(name, "key-rsa-int-padding") == 0 ||
	           strcmp(name, "key-rsa-no-params") == 0 ||
	           strcmp(name, "key-rsa-trailing-data") == 0) {
		struct der spki = {0};
		if (strcmp(name, "key-rsa-int-padding") == 0)
			rsa_spki(&spki, key, 1, 1, 0);
		else if (strcmp(name, "key-rsa-no-params") == 0)
			rsa_spki(&spki, key, 0, 0, 0);
		else
			rsa_spki(&spki, key, 0, 1, 2);
		req = new_req(key, "web.shop.svc");
		add_san_ext_req(req, "web.shop.svc");
		splice_sign_print(req, key, 2, &spki);
		X509_REQ_free(req);
		return;
	} else if (strcmp(name, "ext-ku-undefined-bit") == 0) {
		/* keyUsage with digitalSignature and bit 9, which RFC 5280 does
		 * not define. */
		static const unsigned char bits[] = {0x03, 0x03, 0x06, 0x80, 0x40};
		struct der v = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		der_raw(&v, bits, sizeof(bits));
		der_ext(&e, "2.5.29.15", 1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "san-dns-nul") == 0) {
		static const char dns[] = "web.shop.svc\0.evil.example";
		struct der v = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		der_san_dns(&v, dns, sizeof(dns) - 1);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "san-ip-5bytes") == 0) {
		static const unsigned char ip[] = {10, 244, 1, 7, 0};
		struct der g = {0}, v = {0}, e = {0}, s = {0};
		req = new_req(key, "web.shop.svc");
		der_tlv(&g, 0x87, ip, sizeof(ip));
		der_wrap(&v, 0x30, &g);
		der_ext(&e, "2.5.29.17", -1, &v);
		der_wrap(&s, 0x30, &e);
		add_ext_req_raw(req, NID_ext_req, &s);
	} else if (strcmp(name, "subj-bmp-cn") == 0) {
		static const unsigned char ucs2[] = {0, 'w', 0, 'e', 0, 'b'};
		req = new_req(key, NULL);
		add_cn(req, V_ASN1_BMPSTRING, ucs2, sizeof(ucs2));
	} else if (strcmp(name, "subj-t61-cn") == 0) {
		static const unsigned char latin1[] = {'c', 'a', 'f', 0xe9};
		req = new_req(key, NULL);
		add_cn(req, V_ASN1_T61STRING, latin1, sizeof(latin1));
	} else if (strcmp(name, "subj-control-cn") == 0) {
		static const char s[] = "web\a.shop.svc";
		req = new_req(key, NULL);
		add_cn(req, V_ASN1_UTF8STRING, s, sizeof(s) - 1);
	} else if (strcmp(name, "subj-nul-cn") == 0) {
		static const char s[] = "web.shop.svc\0.evil.example";
		req = new_req(key, NULL);
		add_cn(req, V_ASN1_UTF8STRING, s, sizeof(s) - 1);
	} else if (strcmp(name, "subj-printable-bad") == 0) {
		static const char s[] = "web_shop@svc";
		req = new_req(key, NULL);
		add_cn(req, V_ASN1_PRINTABLESTRING, s, sizeof(s) - 1);
	} else if (strcmp(name, "subj-invalid-utf8") == 0) {
		/* OpenSSL will not encode invalid UTF-8: patch it in. */
		static const unsigned char valid[] = {'w', 'e', 'b', '@', '@'};
		static const unsigned char bad[] = {'w', 'e', 'b', 0xff, 0xfe};
		req = new_req(key, NULL);
		add_cn(req, V_ASN1_UTF8STRING, valid, sizeof(valid));
		patch_sign_print(req, key, valid, bad, sizeof(valid));
		X509_REQ_free(req);
		return;
	} else if (strcmp(name, "der-version2") == 0) {
		req = new_req(key, "web.shop.svc");
		if (!X509_REQ_set_version(req, 1))
			die("set version");
	} else if (strcmp(name, "sig-wrong-key") == 0) {
		if (key2 == NULL)
			die("sig-wrong-key needs KEY2");
		req = new_req(key, "web.shop.svc");
		add_san_ext_req(req, "web.shop.svc");
		signer = key2;
	} else if (strcmp(name, "key-unknown-alg") == 0) {
		/* The key bits of KEY under an algorithm OID no one knows. */
		const unsigned char *pk = NULL;
		int pklen = 0;
		req = new_req(key, "web.shop.svc");
		X509_PUBKEY *pub = X509_REQ_get_X509_PUBKEY(req);
		if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, pub))
			die("pubkey");
		unsigned char *copy = OPENSSL_memdup(pk, (size_t)pklen);
		if (copy == NULL ||
		    !X509_PUBKEY_set0_param(pub, OBJ_txt2obj("1.2.3.4.5", 1), V_ASN1_NULL, NULL,
		                            copy, pklen))
			die("set0_param");
	} else {
		die("unknown case");
	}
	sign_print(req, signer);
	X509_REQ_free(req);
}

/* ---- cases derived from an existing request ---- */

static void edit(const char *name, const char *in)
{
	X509_REQ *req = load_req(in);
	unsigned char *der = NULL, *out = NULL;
	int n = i2d_X509_REQ(req, &der);
	if (n <= 4 || der[0] != 0x30 || der[1] != 0x82)
		die("expected a request of 256..65535 bytes");

	if (strcmp(name, "sig-tampered") == 0) {
		/* The signature BIT STRING ends the request. */
		der[n - 1] ^= 0x01;
		print_der(der, n);
	} else if (strcmp(name, "der-long-form-length") == 0) {
		/* 30 82 hi lo -> 30 83 00 hi lo */
		out = OPENSSL_malloc((size_t)n + 1);
		if (out == NULL)
			die("malloc");
		out[0] = 0x30;
		out[1] = 0x83;
		out[2] = 0x00;
		memcpy(out + 3, der + 2, (size_t)n - 2);
		print_der(out, n + 1);
	} else if (strcmp(name, "der-trailing-bytes") == 0) {
		out = OPENSSL_malloc((size_t)n + 2);
		if (out == NULL)
			die("malloc");
		memcpy(out, der, (size_t)n);
		out[n] = 0;
		out[n + 1] = 0;
		print_der(out, n + 2);
	} else {
		die("unknown case");
	}
	OPENSSL_free(out);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gen_csr CASE KEY [KEY2] | gen_csr CASE IN.pem\n");
		return 2;
	}
	const char *name = argv[1];
	if (strcmp(name, "sig-tampered") == 0 || strcmp(name, "der-long-form-length") == 0 ||
	    strcmp(name, "der-trailing-bytes") == 0) {
		edit(name, argv[2]);
	} else {
		EVP_PKEY *key = load_key(argv[2]);
		EVP_PKEY *key2 = argc > 3 ? load_key(argv[3]) : NULL;
		build(name, key, key2);
		EVP_PKEY_free(key2);
		EVP_PKEY_free(key);
	}
	return 0;
}
