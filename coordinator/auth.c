/* auth.c - credentials and the checks of what clients present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "cs/mem.h"
#include "cs/util.h"

static const struct {
    const char *name;
    enum auth_role role;
} roles[] = {
    {"viewer", AUTH_VIEWER},
    {"operator", AUTH_OPERATOR},
};

const char *auth_role_name(enum auth_role r)
{
    for (size_t i = 0; i < ARRAY_SIZE(roles); i++)
        if (roles[i].role == r)
            return roles[i].name;
    return "none";
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '@' || c == '-';
}

static void digest(const char *secret, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    if (!EVP_Digest(secret, len, out, &n, EVP_sha256(), NULL))
        memset(out, 0, 32); /* cannot happen with the default provider; never matches a real one */
}

int auth_add(struct auth *a, enum auth_kind kind, const char *spec, struct cs_error *err)
{
    const char *what = kind == AUTH_TOKEN ? "token" : "user";
    const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2)
        return cs_error_set(err, CS_ERR_PARSE, "%s: expected NAME:ROLE:%s", what,
                            kind == AUTH_TOKEN ? "TOKEN" : "PASSWORD");
    size_t nl = (size_t)(c1 - spec), rl = (size_t)(c2 - c1 - 1);
    const char *secret = c2 + 1;
    size_t sl = strlen(secret);
    if (nl == 0 || nl > AUTH_NAME_MAX)
        return cs_error_set(err, CS_ERR_PARSE, "%s: the name must have 1..%d characters", what,
                            AUTH_NAME_MAX);
    for (size_t i = 0; i < nl; i++)
        if (!name_char(spec[i]))
            return cs_error_set(err, CS_ERR_PARSE, "%s '%.*s': names use [A-Za-z0-9_.@-]", what,
                                (int)nl, spec);
    enum auth_role role = AUTH_NONE;
    for (size_t i = 0; i < ARRAY_SIZE(roles); i++)
        if (strlen(roles[i].name) == rl && strncmp(roles[i].name, c1 + 1, rl) == 0)
            role = roles[i].role;
    if (role == AUTH_NONE)
        return cs_error_set(err, CS_ERR_PARSE, "%s '%.*s': role '%.*s' is not viewer or operator",
                            what, (int)nl, spec, (int)(rl > 20 ? 20 : rl), c1 + 1);
    size_t min = kind == AUTH_TOKEN ? AUTH_TOKEN_MIN : AUTH_PASSWORD_MIN;
    if (sl < min || sl > AUTH_SECRET_MAX)
        return cs_error_set(err, CS_ERR_RANGE, "%s '%.*s': the %s must have %zu..%d characters",
                            what, (int)nl, spec, kind == AUTH_TOKEN ? "token" : "password", min,
                            AUTH_SECRET_MAX);
    for (size_t i = 0; i < sl; i++)
        if ((unsigned char)secret[i] < 0x20 || secret[i] == 0x7f)
            return cs_error_set(err, CS_ERR_PARSE, "%s '%.*s': control character in the %s", what,
                                (int)nl, spec, kind == AUTH_TOKEN ? "token" : "password");
    for (size_t i = 0; i < a->n; i++)
        if (a->cred[i].kind == kind && strlen(a->cred[i].name) == nl &&
            strncmp(a->cred[i].name, spec, nl) == 0)
            return cs_error_set(err, CS_ERR_INVAL, "%s '%.*s' is given twice", what, (int)nl, spec);
    if (a->n >= AUTH_CREDS_MAX)
        return cs_error_set(err, CS_ERR_TOO_BIG, "more than %d users and tokens", AUTH_CREDS_MAX);
    struct auth_cred *c = &a->cred[a->n];
    memset(c, 0, sizeof(*c));
    memcpy(c->name, spec, nl);
    c->role = role;
    c->kind = kind;
    digest(secret, sl, c->digest);
    for (size_t i = 0; i < a->n; i++) /* a token that is also a password would be ambiguous */
        if (a->cred[i].kind != kind && CRYPTO_memcmp(a->cred[i].digest, c->digest, 32) == 0)
            return cs_error_set(err, CS_ERR_INVAL, "%s '%.*s': the same secret as '%s'", what,
                                (int)nl, spec, a->cred[i].name);
    a->n++;
    return CS_OK;
}

bool auth_enabled(const struct auth *a)
{
    return a && a->n > 0;
}

const struct auth_cred *auth_password(const struct auth *a, const char *user, const char *password)
{
    static const unsigned char nobody[32] = {0};
    unsigned char d[32];
    const struct auth_cred *found = NULL;
    digest(password, strlen(password), d);
    for (size_t i = 0; i < a->n; i++)
        if (a->cred[i].kind == AUTH_PASSWORD && strcmp(a->cred[i].name, user) == 0)
            found = &a->cred[i];
    /* An unknown user costs the same comparison. */
    bool ok = CRYPTO_memcmp(found ? found->digest : nobody, d, 32) == 0;
    return found && ok ? found : NULL;
}

const struct auth_cred *auth_token(const struct auth *a, const char *token)
{
    unsigned char d[32];
    const struct auth_cred *found = NULL;
    digest(token, strlen(token), d);
    for (size_t i = 0; i < a->n; i++) /* every token compared: no early exit */
        if (a->cred[i].kind == AUTH_TOKEN && CRYPTO_memcmp(a->cred[i].digest, d, 32) == 0)
            found = &a->cred[i];
    return found;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 with padding; false when malformed or longer than n - 1 decoded bytes. */
static bool b64decode(const char *in, char *out, size_t n, size_t *outlen)
{
    size_t len = strlen(in), o = 0;
    if (len == 0 || len % 4)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = in[i + k] == '=' ? -2 : b64val(in[i + k]);
            if (v[k] == -1)
                return false;
        }
        /* '=' only at the end: xx==, xxx= */
        if (v[0] < 0 || v[1] < 0 || (v[2] == -2 && v[3] != -2) ||
            ((v[2] == -2 || v[3] == -2) && i + 4 != len))
            return false;
        unsigned x = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
                     (unsigned)(v[2] < 0 ? 0 : v[2]) << 6 | (unsigned)(v[3] < 0 ? 0 : v[3]);
        int bytes = v[2] < 0 ? 1 : v[3] < 0 ? 2 : 3;
        if (o + (size_t)bytes >= n)
            return false;
        out[o++] = (char)(x >> 16);
        if (bytes > 1)
            out[o++] = (char)(x >> 8 & 0xff);
        if (bytes > 2)
            out[o++] = (char)(x & 0xff);
    }
    out[o] = '\0';
    *outlen = o;
    return true;
}

enum auth_header auth_check_header(const struct auth *a, const char *value,
                                   const struct auth_cred **cred)
{
    *cred = NULL;
    if (!value)
        return AUTH_HDR_ABSENT;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return AUTH_HDR_ABSENT;
    if (strncasecmp(value, "Basic ", 6) == 0) {
        char plain[AUTH_NAME_MAX + AUTH_SECRET_MAX + 2];
        size_t n;
        const char *p = value + 6;
        while (*p == ' ')
            p++;
        if (!b64decode(p, plain, sizeof(plain), &n) || memchr(plain, '\0', n))
            return AUTH_HDR_BAD;
        char *colon = strchr(plain, ':');
        if (!colon)
            return AUTH_HDR_BAD;
        *colon = '\0';
        *cred = auth_password(a, plain, colon + 1);
        OPENSSL_cleanse(plain, sizeof(plain));
        return *cred ? AUTH_HDR_OK : AUTH_HDR_WRONG;
    }
    if (strncasecmp(value, "Bearer ", 7) == 0) {
        const char *t = value + 7;
        while (*t == ' ')
            t++;
        if (!*t || strlen(t) > AUTH_SECRET_MAX)
            return AUTH_HDR_BAD;
        *cred = auth_token(a, t);
        return *cred ? AUTH_HDR_OK : AUTH_HDR_WRONG;
    }
    return AUTH_HDR_BAD;
}

bool auth_cookie(const char *header, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            while (vl && (p[nl + 1 + vl - 1] == ' ' || p[nl + 1 + vl - 1] == '\t'))
                vl--;
            if (vl == 0 || vl >= n)
                return false;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

bool auth_str_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

void auth_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];
    if (nbytes > sizeof(b))
        nbytes = sizeof(b);
    if (RAND_bytes(b, (int)nbytes) != 1)
        abort(); /* no randomness: a session id would be guessable */
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * nbytes] = '\0';
    OPENSSL_cleanse(b, sizeof(b));
}
