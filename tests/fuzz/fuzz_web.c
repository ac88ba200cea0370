/* Fuzz target: what a client sends the coordinator's HTTP side before any handler runs, and
 * the access settings read from a config file: an Authorization header (Basic, Bearer), a
 * Cookie header, an origin, a listener address, a NAME:ROLE:SECRET credential. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "listen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct auth creds;
    static int ready;
    if (!ready) {
        auth_add(&creds, AUTH_PASSWORD, "alice:operator:alice-secret-1", NULL);
        auth_add(&creds, AUTH_TOKEN, "prom:viewer:prometheus-token-0123456789", NULL);
        ready = 1;
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* headers reach the gate as C strings (evhttp stops at NUL) */

    const struct auth_cred *c;
    auth_check_header(&creds, s, &c);
    char cookie[65];
    auth_cookie(s, "cs_session_8080", cookie, sizeof(cookie));
    auth_str_equal(s, "0123456789abcdef");
    struct cs_error err;
    listen_check_origin(s, 128, &err);
    char host[LISTEN_MAX];
    int port;
    listen_parse(s, host, sizeof(host), &port, &err);
    struct listen_plan p = {s, s, true, false, false, false, false};
    listen_check(&p, &err);
    struct auth scratch = {0};
    auth_add(&scratch, size % 2 ? AUTH_TOKEN : AUTH_PASSWORD, s, &err);
    free(s);
    return 0;
}
