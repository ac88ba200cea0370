/* url.h - redis://[user[:password]@]host[:port][/db] */
#ifndef CS_URL_H
#define CS_URL_H

#include <stdbool.h>

#include "cs/buf.h"
#include "cs/err.h"

#define CS_REDIS_URL_DEFAULT "redis://127.0.0.1:6379/0"

struct redis_url {
    char host[256];
    int port;
    int db;
    char user[128];
    char pass[256];
};

/* User and password may be percent-encoded. */
int redis_url_parse(struct redis_url *u, const char *text, struct cs_error *err);
/* Re-renders the URL; the password is shown as *** when mask is true. */
void redis_url_format(const struct redis_url *u, bool mask, struct buf *out);

#endif
