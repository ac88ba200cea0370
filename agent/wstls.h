/* wstls.h - TLS sessions for the WebSocket transport (wss://): one OpenSSL context per CA
 * setting, shared by the connections that use it; the client certificate, the server name (SNI)
 * and the host check go on each session. [loop] throughout. */
#ifndef CS_AGENT_WSTLS_H
#define CS_AGENT_WSTLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "cs/err.h"

struct wstls;

struct wstls_opts {
    const char *ca;           /* CA file (PEM); "" or NULL: the system's trust store */
    const char *cert, *key;   /* client certificate and key files; NULL or "": none */
    const char *key_password; /* of an encrypted key; kept by the caller while the session lives */
    const char *host;         /* the server's name or address, checked when verify */
    bool verify;
};

struct wstls *wstls_new(void);
void wstls_free(struct wstls *t);
/* A client session ready for bufferevent_openssl_socket_new; NULL with err set. */
SSL *wstls_session(struct wstls *t, const struct wstls_opts *o, struct cs_error *err);

#endif
