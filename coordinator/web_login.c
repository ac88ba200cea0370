/* web_login.c - the page's sessions: what the page asks first (GET /api/session), signing in
 * (POST /api/login) and out (POST /api/logout). A session lives in an HttpOnly, SameSite=Strict
 * cookie (Secure over TLS); its CSRF token goes to the page in the JSON answer and comes back
 * in X-CSRF-Token with every request that changes something. */
#include <stdio.h>
#include <string.h>

#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "cs/cmd.h"
#include "cs/log.h"
#include "web_int.h"

void web_auth_failed(struct web *w, const char *client, const char *what)
{
    int retry = 0;
    log_debug("web: %s from %s", what, client);
    rl_take(w->rl, client, RL_AUTH_FAIL, cs_mono_ms(), NULL);
    if (!rl_allows(w->rl, client, RL_AUTH_FAIL, cs_mono_ms(), &retry))
        log_warn("web: %s from %s, too many: refusing its sign-ins for %d s", what, client, retry);
}

static void set_cookie(struct web_req *r, const char *value, bool expire)
{
    char c[256];
    snprintf(c, sizeof(c), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", r->l->cookie, value,
             web_tls(r->l->w) ? "; Secure" : "", expire ? "; Max-Age=0" : "");
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", c);
}

/* {"auth","user","role","csrf","commands","read_only","tls","verbs"}: what the page needs to
 * know about who it is and what it may do. */
static void session_json(struct web_req *r, const struct session *s)
{
    const struct web *w = r->l->w;
    bool signed_in = r->role != AUTH_NONE;
    struct buf b = BUF_INIT;
    struct jw j;
    size_t n;
    const struct cmd_def *t = cmd_table(&n);
    jw_init(&j, &b);
    jw_obj(&j);
    jw_kbool(&j, "auth", auth_enabled(w->o.auth));
    jw_key(&j, "user");
    signed_in ? jw_str(&j, r->name) : jw_null(&j);
    jw_key(&j, "role");
    signed_in ? jw_str(&j, auth_role_name(r->role)) : jw_null(&j);
    jw_key(&j, "csrf");
    s ? jw_str(&j, s->csrf) : jw_null(&j);
    jw_kbool(&j, "commands", r->role >= AUTH_OPERATOR && !w->o.read_only);
    jw_kbool(&j, "read_only", w->o.read_only);
    jw_kbool(&j, "tls", web_tls(w));
    jw_key(&j, "verbs");
    jw_arr(&j);
    for (size_t i = 0; i < n; i++)
        if (!(t[i].flags & CMD_F_INTERNAL))
            jw_str(&j, t[i].name);
    jw_end(&j);
    jw_end(&j);
    web_send_json(r->req, 200, "OK", &b);
    buf_free(&b);
}

void web_handle_session(struct web_req *r)
{
    struct web *w = r->l->w;
    const struct session *s = r->session[0] ? sess_find(w->sess, r->session, cs_mono_ms()) : NULL;
    /* Without credentials the page still gets a session: its CSRF token guards the commands. */
    if (!s && !auth_enabled(w->o.auth)) {
        s = sess_create(w->sess, r->name, r->role, cs_mono_ms());
        set_cookie(r, s->id, false);
    }
    session_json(r, s);
}

void web_handle_login(struct web_req *r)
{
    struct web *w = r->l->w;
    int retry;
    if (!auth_enabled(w->o.auth)) {
        web_send_error(r->req, 400, "Bad Request",
                       "no credentials are configured: there is nothing to sign in to");
        return;
    }
    if (!rl_allows(w->rl, r->client, RL_AUTH_FAIL, cs_mono_ms(), &retry)) {
        web_send_busy(r->req, retry, "too many wrong credentials from this address: wait");
        return;
    }
    cJSON *body = web_json_body(r, "expected {\"user\": NAME, \"password\": PASSWORD} or "
                                   "{\"token\": TOKEN}");
    if (!body)
        return;
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(body, "user");
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(body, "token");
    const struct auth_cred *c = NULL;
    bool well_formed = true;
    if (cJSON_IsString(user) && user->valuestring[0] && cJSON_IsString(pw))
        c = auth_password(w->o.auth, user->valuestring, pw->valuestring);
    else if (cJSON_IsString(tok) && tok->valuestring[0])
        c = auth_token(w->o.auth, tok->valuestring);
    else
        well_formed = false;
    if (cJSON_IsString(pw))
        OPENSSL_cleanse(pw->valuestring, strlen(pw->valuestring));
    if (cJSON_IsString(tok))
        OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
    if (!well_formed) {
        cJSON_Delete(body);
        web_send_error(r->req, 400, "Bad Request",
                       "expected {\"user\": NAME, \"password\": PASSWORD} or {\"token\": TOKEN}");
        return;
    }
    if (!c) {
        char what[AUTH_NAME_MAX + 64];
        if (cJSON_IsString(user) && user->valuestring[0])
            snprintf(what, sizeof(what), "a wrong password for '%.64s'", user->valuestring);
        else
            snprintf(what, sizeof(what), "a wrong token");
        cJSON_Delete(body);
        web_auth_failed(w, r->client, what);
        web_send_error(r->req, 401, "Unauthorized", "wrong user name, password or token");
        return;
    }
    cJSON_Delete(body);
    const struct session *s = sess_create(w->sess, c->name, c->role, cs_mono_ms());
    log_info("web: %s signed in (%s) from %s", c->name, auth_role_name(c->role), r->client);
    set_cookie(r, s->id, false);
    r->role = c->role;
    cs_strlcpy(r->name, c->name, sizeof(r->name));
    cs_strlcpy(r->session, s->id, sizeof(r->session));
    session_json(r, s);
}

void web_handle_logout(struct web_req *r)
{
    struct web *w = r->l->w;
    if (r->session[0]) {
        sess_end(w->sess, r->session);
        log_info("web: %s signed out (%s)", r->name, r->client);
    }
    set_cookie(r, "", true);
    struct buf b = BUF_INIT;
    buf_puts(&b, "{\"ok\":true}");
    web_send_json(r->req, 200, "OK", &b);
    buf_free(&b);
}
