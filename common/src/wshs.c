/* wshs.c - a WebSocket client's opening handshake (wshs.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cs/mem.h"
#include "cs/wshs.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static void b64(const unsigned char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* The identity as a path segment: unreserved characters as they are, the rest %XX. */
static void put_segment(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
            buf_putc(b, (char)ch);
        else
            buf_printf(b, "%%%02X", ch);
    }
}

void wshs_request(struct buf *out, const struct wshs_req *r, char key[WSHS_KEY_LEN + 1])
{
    b64(r->nonce, sizeof(r->nonce), key);
    buf_printf(out, "GET %s/", r->path ? r->path : "");
    put_segment(out, r->identity);
    bool v6 = strchr(r->host, ':') != NULL;
    buf_printf(out, " HTTP/1.1\r\nHost: %s%s%s", v6 ? "[" : "", r->host, v6 ? "]" : "");
    if (r->port != (r->tls ? 443 : 80))
        buf_printf(out, ":%d", r->port);
    buf_printf(out,
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n",
               key, r->subprotocol);
    if (r->username && *r->username) {
        struct buf up = BUF_INIT;
        buf_printf(&up, "%s:%s", r->username, r->password ? r->password : "");
        char *enc = cs_malloc(4 * (up.len / 3 + 1) + 1);
        b64((const unsigned char *)buf_cstr(&up), up.len, enc);
        buf_printf(out, "Authorization: Basic %s\r\n", enc);
        cs_free(enc);
        buf_free(&up);
    }
    buf_puts(out, "\r\n");
}

size_t wshs_head_len(const char *data, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n')
            return i + 4;
    return 0;
}

/* A header's value from the head's lines after the status line ("" when absent); the first
 * occurrence counts. */
static void header(const char *lines, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *l = lines; *l;) {
        const char *e = strstr(l, "\r\n");
        size_t ll = e ? (size_t)(e - l) : strlen(l);
        if (ll > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1, *end = l + ll;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            snprintf(out, n, "%.*s", (int)(end - v), v);
            return;
        }
        if (!e)
            break;
        l = e + 2;
    }
}

/* Whether a comma-separated header value holds tok (case-insensitive). */
static bool has_token(const char *list, const char *tok)
{
    size_t tl = strlen(tok);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, tok, tl) == 0)
            return true;
    }
    return false;
}

int wshs_check(const char *head, const char *key, const char *subprotocol, int *status,
               struct cs_error *err)
{
    *status = 0;
    const char *eol = strstr(head, "\r\n");
    size_t sl = eol ? (size_t)(eol - head) : strlen(head);
    char line[128];
    snprintf(line, sizeof(line), "%.*s", (int)(sl < sizeof(line) - 1 ? sl : sizeof(line) - 1),
             head);
    int code = 0, off = 0;
    if (sscanf(line, "HTTP/1.%*1[01] %3d%n", &code, &off) < 1 || code < 100 || code > 599 ||
        (line[off] != ' ' && line[off] != '\0'))
        return cs_error_set(err, CS_ERR_PARSE, "not an HTTP answer to the upgrade: '%.60s'", line);
    *status = code;
    if (code != 101) {
        const char *reason = line + off;
        while (*reason == ' ')
            reason++;
        return cs_error_set(
            err, CS_ERR_STATE, "the server refused the WebSocket upgrade: HTTP %d%s%.60s%s", code,
            *reason ? " " : "", reason, code == 401 ? " (Basic auth user name or password)" : "");
    }
    const char *lines = eol ? eol + 2 : "";
    char v[256];
    header(lines, "Upgrade", v, sizeof(v));
    if (strcasecmp(v, "websocket") != 0)
        return cs_error_set(err, CS_ERR_PARSE, "upgrade answer without Upgrade: websocket");
    header(lines, "Connection", v, sizeof(v));
    if (!has_token(v, "upgrade"))
        return cs_error_set(err, CS_ERR_PARSE, "upgrade answer without Connection: Upgrade");
    unsigned char sha[SHA_DIGEST_LENGTH];
    char joined[WSHS_KEY_LEN + sizeof(WS_GUID)], want[32];
    snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID);
    SHA1((const unsigned char *)joined, strlen(joined), sha);
    b64(sha, sizeof(sha), want);
    header(lines, "Sec-WebSocket-Accept", v, sizeof(v));
    if (strcmp(v, want) != 0)
        return cs_error_set(err, CS_ERR_PARSE, "upgrade answer with a wrong Sec-WebSocket-Accept");
    header(lines, "Sec-WebSocket-Protocol", v, sizeof(v));
    if (strcmp(v, subprotocol) != 0)
        return cs_error_set(err, CS_ERR_PARSE,
                            "the server accepted the WebSocket without the subprotocol %s (it "
                            "chose %s%s%s): refused",
                            subprotocol, *v ? "'" : "none", v, *v ? "'" : "");
    return CS_OK;
}
