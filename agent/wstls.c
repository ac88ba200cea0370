/* wstls.c - TLS sessions for the WebSocket transport (wstls.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cs/mem.h"
#include "wstls.h"

struct ctx_entry {
    struct ctx_entry *next;
    char *ca;
    SSL_CTX *ctx;
};

struct wstls {
    struct ctx_entry *ctxs;
};

struct wstls *wstls_new(void)
{
    return cs_calloc(1, sizeof(struct wstls));
}

void wstls_free(struct wstls *t)
{
    if (!t)
        return;
    for (struct ctx_entry *e = t->ctxs, *next; e; e = next) {
        next = e->next;
        SSL_CTX_free(e->ctx);
        cs_free(e->ca);
        cs_free(e);
    }
    cs_free(t);
}

static SSL_CTX *ctx_for(struct wstls *t, const char *ca, struct cs_error *err)
{
    for (struct ctx_entry *e = t->ctxs; e; e = e->next)
        if (strcmp(e->ca, ca) == 0)
            return e->ctx;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        cs_error_set(err, CS_ERR_INVAL, "ws: cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (*ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1
            : SSL_CTX_set_default_verify_paths(ctx) != 1) {
        cs_error_set(err, CS_ERR_INVAL, "ws: cannot load the CA certificates %s",
                     *ca ? ca : "of the system");
        SSL_CTX_free(ctx);
        return NULL;
    }
    struct ctx_entry *e = cs_calloc(1, sizeof(*e));
    e->ca = cs_strdup(ca);
    e->ctx = ctx;
    e->next = t->ctxs;
    t->ctxs = e;
    return ctx;
}

static int key_password(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *pw = userdata;
    if (!pw || size <= 0)
        return 0;
    int n = (int)strlen(pw);
    if (n >= size)
        n = size - 1;
    memcpy(buf, pw, (size_t)n);
    buf[n] = '\0';
    return n;
}

SSL *wstls_session(struct wstls *t, const struct wstls_opts *o, struct cs_error *err)
{
    SSL_CTX *ctx = ctx_for(t, o->ca ? o->ca : "", err);
    if (!ctx)
        return NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        cs_error_set(err, CS_ERR_INVAL, "ws: cannot make a TLS session");
        return NULL;
    }
    const char *cert = o->cert && *o->cert ? o->cert : NULL;
    const char *key = o->key && *o->key ? o->key : cert;
    if (cert) {
        SSL_set_default_passwd_cb(ssl, key_password);
        SSL_set_default_passwd_cb_userdata(ssl, (void *)o->key_password);
        if (SSL_use_certificate_chain_file(ssl, cert) != 1 ||
            SSL_use_PrivateKey_file(ssl, key, SSL_FILETYPE_PEM) != 1) {
            char e[160];
            ERR_error_string_n(ERR_get_error(), e, sizeof(e));
            cs_error_set(err, CS_ERR_INVAL, "ws: client certificate %s: %s", cert, e);
            SSL_free(ssl);
            return NULL;
        }
    }
    struct in6_addr a6;
    struct in_addr a4;
    bool numeric = inet_pton(AF_INET, o->host, &a4) == 1 || inet_pton(AF_INET6, o->host, &a6) == 1;
    if (!numeric)
        SSL_set_tlsext_host_name(ssl, o->host);
    if (o->verify) {
        SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
        if (numeric)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), o->host);
        else
            SSL_set1_host(ssl, o->host);
    } else {
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    }
    return ssl;
}
