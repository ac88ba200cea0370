/* tls.h - TLS for the coordinator's HTTP listeners: an OpenSSL server context from a PEM
 * certificate (chain) and key, and the bufferevent factory evhttp calls for each connection
 * it accepts (evhttp_set_bevcb, libevent 2.1: the bufferevent is made without a socket, in
 * the accepting state; evhttp gives it the socket). */
#ifndef CS_COORD_TLS_H
#define CS_COORD_TLS_H

#include "cs/err.h"

struct event_base;
struct bufferevent;
struct tls;

/* Loads the certificate chain and the key (unencrypted PEM) and checks they belong together.
 * TLS 1.2 or newer. NULL with *err naming the file and OpenSSL's reason. Caller frees with
 * tls_free. */
struct tls *tls_new(const char *cert_file, const char *key_file, struct cs_error *err);
void tls_free(struct tls *t);
/* [loop] For evhttp_set_bevcb(http, tls_bevcb, tls): a TLS bufferevent for one connection. */
struct bufferevent *tls_bevcb(struct event_base *base, void *privdata);

#endif
