/* auth.h - who may use the coordinator's HTTP side: credentials with a role, and the checks
 * of what a client presents (an Authorization header, a login). Pure: no I/O, no libevent;
 * OpenSSL for SHA-256, constant-time comparison and random bytes.
 *
 * A credential is NAME:ROLE:SECRET, from the config file (`http-user`, `http-token`) or the
 * environment (SWARM_HTTP_USER, SWARM_HTTP_TOKEN), never from the command line. A user logs in
 * with NAME and the password (HTTP Basic, or the page's login form); a token is presented
 * alone (`Authorization: Bearer TOKEN`, or the form's password with no user name). Only the
 * SHA-256 of a secret is kept; comparisons take the same time whatever matches. */
#ifndef CS_COORD_AUTH_H
#define CS_COORD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "cs/err.h"

#define AUTH_NAME_MAX 64 /* user and token names: [A-Za-z0-9_.@-] */
#define AUTH_CREDS_MAX 32
#define AUTH_PASSWORD_MIN 8
#define AUTH_TOKEN_MIN 16
#define AUTH_SECRET_MAX 256

/* Roles, weakest first: a role may do what every weaker one may. */
enum auth_role {
    AUTH_NONE = 0,     /* not signed in */
    AUTH_VIEWER = 1,   /* the page, the API's reads, /metrics */
    AUTH_OPERATOR = 2, /* ... and commands */
};

enum auth_kind { AUTH_PASSWORD, AUTH_TOKEN };

struct auth_cred {
    char name[AUTH_NAME_MAX + 1];
    enum auth_role role;
    enum auth_kind kind;
    unsigned char digest[32]; /* SHA-256 of the secret */
};

/* The credentials: a plain value, kept in the program's options. */
struct auth {
    struct auth_cred cred[AUTH_CREDS_MAX];
    size_t n;
};

/* Adds "NAME:ROLE:SECRET" (ROLE viewer or operator; the secret may hold ':'). Errors name the
 * problem and never quote the secret. */
int auth_add(struct auth *a, enum auth_kind kind, const char *spec, struct cs_error *err);
/* True when credentials are configured: every request must then present one. */
bool auth_enabled(const struct auth *a);
/* "viewer", "operator", "none". */
const char *auth_role_name(enum auth_role r);

/* The user whose name and password these are, or NULL. */
const struct auth_cred *auth_password(const struct auth *a, const char *user, const char *password);
/* The token credential with this secret, or NULL. */
const struct auth_cred *auth_token(const struct auth *a, const char *token);

enum auth_header {
    AUTH_HDR_ABSENT, /* no header (or an empty one) */
    AUTH_HDR_OK,     /* *cred set */
    AUTH_HDR_WRONG,  /* Basic or Bearer, not matching any credential */
    AUTH_HDR_BAD,    /* another scheme, or malformed */
};
/* Checks an Authorization header: "Basic base64(user:password)" or "Bearer TOKEN". */
enum auth_header auth_check_header(const struct auth *a, const char *value,
                                   const struct auth_cred **cred);

/* The value of cookie `name` in a Cookie header, into out (n bytes). False when absent or too
 * long. */
bool auth_cookie(const char *header, const char *name, char *out, size_t n);
/* Compares two strings in time that depends on their lengths only. */
bool auth_str_equal(const char *a, const char *b);
/* 2 * nbytes hex digits of cryptographic randomness, NUL-terminated (out: 2 * nbytes + 1). */
void auth_random_hex(char *out, size_t nbytes);

#endif
