/* url.c - Redis URL parsing. */
#include <ctype.h>
#include <string.h>

#include "cs/url.h"
#include "cs/util.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into out; false on a bad escape or overflow. */
static bool decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return false;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= outlen || c == '\0')
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

int redis_url_parse(struct redis_url *u, const char *text, struct cs_error *err)
{
    memset(u, 0, sizeof(*u));
    u->port = 6379;
    const char *p = text;
    if (strncmp(p, "redis://", 8) == 0)
        p += 8;
    else if (strncmp(p, "rediss://", 9) == 0)
        return cs_error_set(err, CS_ERR_INVAL, "redis URL: rediss:// (TLS) is not supported");
    else
        return cs_error_set(err, CS_ERR_PARSE, "redis URL must start with redis://");

    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ul = colon ? (size_t)(colon - p) : (size_t)(at - p);
        if (!decode(p, ul, u->user, sizeof(u->user)))
            return cs_error_set(err, CS_ERR_PARSE, "redis URL: bad user name");
        if (colon && !decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof(u->pass)))
            return cs_error_set(err, CS_ERR_PARSE, "redis URL: bad password");
        if (!colon) {
            /* redis://secret@host: a lone credential is the password (legacy form). */
            memcpy(u->pass, u->user,
                   sizeof(u->pass) < sizeof(u->user) ? sizeof(u->pass) : sizeof(u->user));
            u->user[0] = '\0';
        }
        p = at + 1;
    }
    const char *hs = p, *he;
    if (*p == '[') {
        he = strchr(p, ']');
        if (!he)
            return cs_error_set(err, CS_ERR_PARSE, "redis URL: unterminated [IPv6]");
        hs = p + 1;
        p = he + 1;
    } else {
        he = p + strcspn(p, ":/");
        p = he;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= sizeof(u->host))
        return cs_error_set(err, CS_ERR_PARSE, "redis URL: missing or too long host");
    memcpy(u->host, hs, hl);
    u->host[hl] = '\0';
    if (*p == ':') {
        char port[8];
        size_t pl = strcspn(p + 1, "/");
        int64_t v;
        if (pl == 0 || pl >= sizeof(port))
            return cs_error_set(err, CS_ERR_PARSE, "redis URL: bad port");
        memcpy(port, p + 1, pl);
        port[pl] = '\0';
        if (!cs_parse_i64(port, 1, 65535, &v))
            return cs_error_set(err, CS_ERR_RANGE, "redis URL: port must be 1..65535");
        u->port = (int)v;
        p += 1 + pl;
    }
    if (*p == '/') {
        int64_t v;
        if (p[1] && !cs_parse_i64(p + 1, 0, 1000000, &v))
            return cs_error_set(err, CS_ERR_PARSE, "redis URL: database must be a number");
        u->db = p[1] ? (int)v : 0;
    } else if (*p) {
        return cs_error_set(err, CS_ERR_PARSE, "redis URL: unexpected '%c'", *p);
    }
    return CS_OK;
}

void redis_url_format(const struct redis_url *u, bool mask, struct buf *out)
{
    buf_puts(out, "redis://");
    if (u->user[0] || u->pass[0]) {
        buf_puts(out, u->user);
        if (u->pass[0]) {
            buf_putc(out, ':');
            buf_puts(out, mask ? "***" : u->pass);
        }
        buf_putc(out, '@');
    }
    bool v6 = strchr(u->host, ':') != NULL;
    buf_printf(out, "%s%s%s:%d/%d", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->db);
}
