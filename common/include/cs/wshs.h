/* wshs.h - a WebSocket client's opening handshake (RFC 6455, section 4.1): the upgrade request
 * and the check of the server's answer, as OCPP-J uses them (a subprotocol is required, HTTP
 * Basic auth for OCPP security profiles 1 and 2). Pure: no I/O. */
#ifndef CS_WSHS_H
#define CS_WSHS_H

#include <stdbool.h>
#include <stddef.h>

#include "cs/buf.h"
#include "cs/err.h"

#define WSHS_KEY_LEN 24 /* base64 of 16 random bytes */

struct wshs_req {
    const char *host; /* an IPv6 address without brackets */
    int port;
    bool tls;                /* the default port is 443, else 80 */
    const char *path;        /* "" or "/ocpp": the identity follows as the last segment */
    const char *identity;    /* the charger's identity, percent-encoded as needed */
    const char *subprotocol; /* "ocpp1.6" */
    const char *username;    /* NULL or "": no Authorization header */
    const char *password;
    unsigned char nonce[16]; /* random: becomes the Sec-WebSocket-Key */
};

/* Appends the GET request to out; key receives the Sec-WebSocket-Key it carries. */
void wshs_request(struct buf *out, const struct wshs_req *r, char key[WSHS_KEY_LEN + 1]);

/* The length of an answer's head, blank line included, once data holds all of it; 0 before. */
size_t wshs_head_len(const char *data, size_t len);

/* Checks the server's answer head (NUL-terminated, as wshs_head_len delimits it) to the request
 * that carried key: CS_OK when the WebSocket is up with the subprotocol. Otherwise an error
 * saying why (a refusal such as HTTP 401, missing upgrade headers, a wrong accept key, another
 * subprotocol or none); *status gets the HTTP status (0 when the answer is not HTTP). */
int wshs_check(const char *head, const char *key, const char *subprotocol, int *status,
               struct cs_error *err);

#endif
