/* test_wshs.c - the WebSocket client handshake (common/src/wshs.c): the request a charger sends
 * and every way a server's answer is taken or refused. The key and accept value are RFC 6455's
 * own example (section 1.3). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cs/wshs.h"

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static struct wshs_req req(const char *host, int port, bool tls, const char *path, const char *id)
{
    struct wshs_req r = {.host = host,
                         .port = port,
                         .tls = tls,
                         .path = path,
                         .identity = id,
                         .subprotocol = "ocpp1.6"};
    memcpy(r.nonce, "the sample nonce", 16);
    return r;
}

static void test_request(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char key[WSHS_KEY_LEN + 1];
    struct wshs_req r = req("csms.example", 9000, false, "/ocpp", "CP-000001");
    r.username = "CP-000001";
    r.password = "secret";
    wshs_request(&b, &r, key);
    assert_string_equal(key, RFC_KEY);
    assert_string_equal(buf_cstr(&b), "GET /ocpp/CP-000001 HTTP/1.1\r\n"
                                      "Host: csms.example:9000\r\n"
                                      "Upgrade: websocket\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Sec-WebSocket-Key: " RFC_KEY "\r\n"
                                      "Sec-WebSocket-Version: 13\r\n"
                                      "Sec-WebSocket-Protocol: ocpp1.6\r\n"
                                      "Authorization: Basic Q1AtMDAwMDAxOnNlY3JldA==\r\n"
                                      "\r\n");
    buf_free(&b);

    /* the scheme's own port is left out, v6 in brackets, the identity percent-encoded, no
     * Authorization without a user name */
    r = req("::1", 443, true, "", "a b/c");
    wshs_request(&b, &r, key);
    assert_non_null(strstr(buf_cstr(&b), "GET /a%20b%2Fc HTTP/1.1\r\nHost: [::1]\r\n"));
    assert_null(strstr(buf_cstr(&b), "Authorization"));
    buf_free(&b);
}

static void test_head_len(void **state)
{
    (void)state;
    const char *a = "HTTP/1.1 101 X\r\nA: b\r\n\r\n\x81\x02hi";
    assert_int_equal(wshs_head_len(a, strlen(a)), strlen("HTTP/1.1 101 X\r\nA: b\r\n\r\n"));
    assert_int_equal(wshs_head_len(a, 20), 0);
    assert_int_equal(wshs_head_len("", 0), 0);
}

static const char *const OK_HEAD = "HTTP/1.1 101 Switching Protocols\r\n"
                                   "Upgrade: websocket\r\n"
                                   "Connection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
                                   "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n";

static int check(const char *head, int *status, struct cs_error *err)
{
    memset(err, 0, sizeof(*err));
    return wshs_check(head, RFC_KEY, "ocpp1.6", status, err);
}

static void test_accepted(void **state)
{
    (void)state;
    struct cs_error err;
    int status;
    assert_int_equal(check(OK_HEAD, &status, &err), CS_OK);
    assert_int_equal(status, 101);
    /* header names in any case, Connection with more tokens, spaces around values */
    assert_int_equal(check("HTTP/1.1 101 OK\r\nupgrade:  WebSocket \r\n"
                           "CONNECTION: keep-alive, upgrade\r\n"
                           "sec-websocket-accept:" RFC_ACCEPT "\r\n"
                           "sec-websocket-protocol: ocpp1.6\r\n\r\n",
                           &status, &err),
                     CS_OK);
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *head;
        int status;
        const char *msg;
    } cases[] = {
        {"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n", 401,
         "the server refused the WebSocket upgrade: HTTP 401 Unauthorized (Basic auth user "
         "name or password)"},
        {"HTTP/1.1 404 Not Found\r\n\r\n", 404, "HTTP 404 Not Found"},
        {"HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT
         "\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n",
         101, "without Upgrade: websocket"},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: "
         "close\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n",
         101, "without Connection: Upgrade"},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nSec-WebSocket-Protocol: "
         "ocpp1.6\r\n\r\n",
         101, "wrong Sec-WebSocket-Accept"},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: "
         "Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
         101, "without the subprotocol ocpp1.6 (it chose none): refused"},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: "
         "Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT
         "\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n",
         101, "(it chose 'ocpp2.0.1')"},
        {"SSH-2.0-OpenSSH\r\n\r\n", 0, "not an HTTP answer"},
        {"HTTP/1.1 1010 X\r\n\r\n", 0, "not an HTTP answer"},
        {"HTTP/2 101 X\r\n\r\n", 0, "not an HTTP answer"},
        {"", 0, "not an HTTP answer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cs_error err;
        int status = -1;
        print_message("  %s\n", cases[i].msg);
        assert_int_not_equal(check(cases[i].head, &status, &err), CS_OK);
        assert_int_equal(status, cases[i].status);
        assert_non_null(strstr(err.msg, cases[i].msg));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_head_len),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
