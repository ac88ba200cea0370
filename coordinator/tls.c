/* tls.c - the listeners' OpenSSL context and per-connection bufferevents. */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "cs/log.h"
#include "cs/mem.h"
#include "tls.h"

struct tls {
    SSL_CTX *ctx;
};

/* OpenSSL's newest error as text ("" when none), and the queue emptied. */
static const char *ssl_reason(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    buf[0] = '\0';
    if (e)
        ERR_error_string_n(e, buf, n);
    ERR_clear_error();
    return buf;
}

struct tls *tls_new(const char *cert_file, const char *key_file, struct cs_error *err)
{
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        cs_error_set(err, CS_ERR_NOMEM, "TLS: %s", ssl_reason(why, sizeof(why)));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        cs_error_set(err, CS_ERR_IO, "http-tls-cert %s: %s", cert_file,
                     ssl_reason(why, sizeof(why)));
        goto out_free;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        cs_error_set(err, CS_ERR_IO, "http-tls-key %s: %s", key_file, ssl_reason(why, sizeof(why)));
        goto out_free;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        cs_error_set(err, CS_ERR_INVAL, "http-tls-key %s does not match the certificate in %s",
                     key_file, cert_file);
        ERR_clear_error();
        goto out_free;
    }
    struct tls *t = cs_calloc(1, sizeof(*t));
    t->ctx = ctx;
    return t;
out_free:
    SSL_CTX_free(ctx);
    return NULL;
}

void tls_free(struct tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    cs_free(t);
}

struct bufferevent *tls_bevcb(struct event_base *base, void *privdata)
{
    struct tls *t = privdata;
    /* Given NULL, evhttp would make a plain bufferevent and serve this connection in clear
     * text: out of memory aborts instead, as cs_malloc does. */
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl) {
        log_error("TLS: cannot set up a connection (out of memory)");
        abort();
    }
    /* With BEV_OPT_CLOSE_ON_FREE the bufferevent frees the SSL and closes the socket. */
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        log_error("TLS: cannot set up a connection (out of memory)");
        abort();
    }
    /* Browsers and scrapers often close without a close_notify: not an error here. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}
