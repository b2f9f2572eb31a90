/*
 * The parts of the csr module that need no OpenSSL: names of the decoder's
 * enums (for messages and `inspect`), which signature scheme fits which key,
 * and freeing a description. The policy module and its tests use them
 * without linking anything that needs OpenSSL.
 */
#include "csr.h"

#include <stdbool.h>
#include <stdlib.h>

const char *csr_san_type_name(enum csr_san_type t)
{
	switch (t) {
	case CSR_SAN_DNS:
		return "DNS";
	case CSR_SAN_IP:
		return "IP";
	case CSR_SAN_URI:
		return "URI";
	case CSR_SAN_EMAIL:
		return "email";
	case CSR_SAN_OTHERNAME:
		return "otherName";
	case CSR_SAN_DIRNAME:
		return "directoryName";
	case CSR_SAN_RID:
		return "registeredID";
	case CSR_SAN_X400:
		return "x400Address";
	case CSR_SAN_EDIPARTY:
		return "ediPartyName";
	}
	return "unknown";
}

const char *csr_str_type_name(enum csr_str_type t)
{
	switch (t) {
	case CSR_STR_UTF8:
		return "UTF8String";
	case CSR_STR_PRINTABLE:
		return "PrintableString";
	case CSR_STR_IA5:
		return "IA5String";
	case CSR_STR_BMP:
		return "BMPString";
	case CSR_STR_T61:
		return "T61String";
	case CSR_STR_UNIVERSAL:
		return "UniversalString";
	case CSR_STR_NUMERIC:
		return "NumericString";
	case CSR_STR_VISIBLE:
		return "VisibleString";
	case CSR_STR_OTHER:
		break;
	}
	return "other";
}

const char *csr_key_type_name(enum csr_key_type t)
{
	switch (t) {
	case CSR_KEY_RSA:
		return "RSA";
	case CSR_KEY_RSA_PSS:
		return "RSA-PSS";
	case CSR_KEY_EC:
		return "EC";
	case CSR_KEY_ED25519:
		return "Ed25519";
	case CSR_KEY_ED448:
		return "Ed448";
	case CSR_KEY_DSA:
		return "DSA";
	case CSR_KEY_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *csr_hash_name(enum csr_hash h)
{
	switch (h) {
	case CSR_HASH_NONE:
		return "none";
	case CSR_HASH_MD5:
		return "MD5";
	case CSR_HASH_SHA1:
		return "SHA-1";
	case CSR_HASH_SHA224:
		return "SHA-224";
	case CSR_HASH_SHA256:
		return "SHA-256";
	case CSR_HASH_SHA384:
		return "SHA-384";
	case CSR_HASH_SHA512:
		return "SHA-512";
	case CSR_HASH_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *csr_sig_scheme_name(enum csr_sig_scheme s)
{
	switch (s) {
	case CSR_SIG_RSA_PKCS1:
		return "RSA-PKCS1";
	case CSR_SIG_RSA_PSS:
		return "RSA-PSS";
	case CSR_SIG_ECDSA:
		return "ECDSA";
	case CSR_SIG_ED25519:
		return "Ed25519";
	case CSR_SIG_ED448:
		return "Ed448";
	case CSR_SIG_DSA:
		return "DSA";
	case CSR_SIG_UNKNOWN:
		break;
	}
	return "unknown";
}

bool csr_sig_scheme_fits_key(enum csr_sig_scheme s, enum csr_key_type k)
{
	switch (s) {
	case CSR_SIG_RSA_PKCS1:
		return k == CSR_KEY_RSA;
	case CSR_SIG_RSA_PSS:
		return k == CSR_KEY_RSA || k == CSR_KEY_RSA_PSS;
	case CSR_SIG_ECDSA:
		return k == CSR_KEY_EC;
	case CSR_SIG_ED25519:
		return k == CSR_KEY_ED25519;
	case CSR_SIG_ED448:
		return k == CSR_KEY_ED448;
	case CSR_SIG_DSA:
		return k == CSR_KEY_DSA;
	default:
		return false;
	}
}

void csr_info_free(struct csr_info *info)
{
	if (info == NULL)
		return;
	for (size_t i = 0; i < info->n_subject; i++)
		free(info->subject[i].value);
	free(info->subject);
	free(info->attrs);
	free(info->exts);
	for (size_t i = 0; i < info->n_sans; i++)
		free(info->sans[i].value);
	free(info->sans);
	free(info->eku_oids);
	free(info->der);
	free(info);
}
