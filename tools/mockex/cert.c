/*
 * cert.c — a throw-away self-signed certificate for the mock's TLS listeners.
 *
 * P-256 key, subjectAltName IP:127.0.0.1, DNS:localhost, valid one week
 * back and forward. basicConstraints CA:TRUE so clients can name the same
 * file as their CA bundle (ca_file) and verify the peer normally.
 */
#include "mx_int.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex)
        return -1;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

int mx__cert_generate(const char *dir, char *cert_path, size_t ccap, char *key_path, size_t kcap)
{
    int rc = -1;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f = NULL;
    if (!pkey || !x)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(mx_wall_ms() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), -7L * 24 * 3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 7L * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"xgw-mockex", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(x, NID_subject_key_identifier, "hash") ||
        add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"))
        goto out;
    if (!X509_sign(x, pkey, EVP_sha256()))
        goto out;
    snprintf(cert_path, ccap, "%s/cert.pem", dir);
    snprintf(key_path, kcap, "%s/key.pem", dir);
    f = fopen(key_path, "wb");
    if (!f || !PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL))
        goto out;
    fclose(f);
    f = fopen(cert_path, "wb");
    if (!f || !PEM_write_X509(f, x))
        goto out;
    rc = 0;
out:
    if (f)
        fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}
