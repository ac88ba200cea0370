/* test_wsframe.c - WebSocket framing for a client (common/src/wsframe.c): the frames it sends
 * (RFC 6455 section 5.7's examples, masked), and every frame a server may send: whole,
 * fragmented, control frames between fragments, and each protocol error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cs/wsframe.h"

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

static void test_encode(void **state)
{
    (void)state;
    /* RFC 6455 5.7: a single-frame masked text message "Hello" */
    uint8_t out[64];
    assert_int_equal(wsf_frame_size(5), 11);
    wsf_encode(out, WSF_TEXT, "Hello", 5, MASK);
    const uint8_t want[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_memory_equal(out, want, sizeof(want));
    /* 126..65535 bytes: a 16-bit length; more: a 64-bit one */
    static uint8_t big[70000], frame[70100];
    assert_int_equal(wsf_frame_size(300), 300 + 8);
    wsf_encode(frame, WSF_BINARY, big, 300, MASK);
    assert_int_equal(frame[1], 0x80 | 126);
    assert_int_equal(frame[2] << 8 | frame[3], 300);
    assert_int_equal(wsf_frame_size(70000), 70000 + 14);
    wsf_encode(frame, WSF_BINARY, big, 70000, MASK);
    assert_int_equal(frame[1], 0x80 | 127);
    assert_int_equal(frame[7] << 16 | frame[8] << 8 | frame[9], 70000);
    assert_int_equal(frame[14] ^ MASK[0], 0);
}

static long next(struct wsf_reader *r, const uint8_t *d, size_t n, struct wsf_event *ev)
{
    struct cs_error err = {0};
    int code = 0;
    return wsf_next(r, d, n, ev, &code, &err);
}

static void test_messages(void **state)
{
    (void)state;
    struct wsf_reader r;
    struct wsf_event ev;
    wsf_reader_init(&r, 1000);
    /* RFC 6455 5.7: an unmasked "Hello", whole, then cut short */
    const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    assert_int_equal(next(&r, hello, sizeof(hello), &ev), 7);
    assert_int_equal(ev.type, WSF_EV_MESSAGE);
    assert_int_equal(ev.op, WSF_TEXT);
    assert_int_equal(ev.len, 5);
    assert_memory_equal(ev.data, "Hello", 5);
    assert_int_equal(next(&r, hello, 1, &ev), 0);
    assert_int_equal(ev.type, WSF_EV_NEED);
    assert_int_equal(ev.need, 2);
    assert_int_equal(next(&r, hello, 4, &ev), 0);
    assert_int_equal(ev.need, 7);
    /* "Hel" + a ping in between + "lo" */
    const uint8_t f1[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
    const uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    const uint8_t f2[] = {0x80, 0x02, 0x6c, 0x6f};
    assert_int_equal(next(&r, f1, sizeof(f1), &ev), 5);
    assert_int_equal(ev.type, WSF_EV_NONE);
    assert_int_equal(next(&r, ping, sizeof(ping), &ev), 7);
    assert_int_equal(ev.type, WSF_EV_PING);
    assert_int_equal(ev.len, 5);
    assert_int_equal(next(&r, f2, sizeof(f2), &ev), 4);
    assert_int_equal(ev.type, WSF_EV_MESSAGE);
    assert_int_equal(ev.len, 5);
    assert_memory_equal(ev.data, "Hello", 5);
    /* a 16-bit length, a pong, a close with its code and reason, a close with none */
    uint8_t m[4 + 300];
    m[0] = 0x82, m[1] = 126, m[2] = 1, m[3] = 44;
    memset(m + 4, 'x', 300);
    assert_int_equal(next(&r, m, sizeof(m), &ev), (long)sizeof(m));
    assert_int_equal(ev.op, WSF_BINARY);
    assert_int_equal(ev.len, 300);
    const uint8_t pong[] = {0x8a, 0x00};
    assert_int_equal(next(&r, pong, 2, &ev), 2);
    assert_int_equal(ev.type, WSF_EV_PONG);
    const uint8_t close[] = {0x88, 0x04, 0x03, 0xe9, 'b', 'y'};
    assert_int_equal(next(&r, close, sizeof(close), &ev), 6);
    assert_int_equal(ev.type, WSF_EV_CLOSE);
    assert_int_equal(ev.code, 1001);
    assert_int_equal(ev.len, 2);
    const uint8_t bare_close[] = {0x88, 0x00};
    assert_int_equal(next(&r, bare_close, 2, &ev), 2);
    assert_int_equal(ev.code, 1005);
    wsf_reader_free(&r);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        uint8_t d[12];
        size_t n;
        int code;
        const char *msg;
    } cases[] = {
        {{0xc1, 0x00}, 2, 1002, "reserved bits"},
        {{0x81, 0x80, 1, 2, 3, 4}, 6, 1002, "masked frame"},
        {{0x83, 0x00}, 2, 1002, "unknown opcode"},
        {{0x09, 0x00}, 2, 1002, "fragmented or long control"},
        {{0x89, 0x7e, 0x00, 0x7e}, 4, 1002, "fragmented or long control"},
        {{0x80, 0x00}, 2, 1002, "continuation with no message"},
        {{0x88, 0x01, 0x03}, 3, 1002, "close frame of one byte"},
        {{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1}, 10, 1002, "top bit"},
        {{0x82, 0x7e, 0x04, 0x00}, 4, 1009, "too big"},
        {{0x88, 0x02, 0x03, 0xee}, 4, 1002, "close code"}, /* 1006: never on the wire */
        {{0x88, 0x02, 0x03, 0xe7}, 4, 1002, "close code"}, /* 999 */
        {{0x88, 0x02, 0x07, 0xd0}, 4, 1002, "close code"}, /* 2000 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wsf_reader r;
        struct wsf_event ev;
        struct cs_error err = {0};
        int code = 0;
        wsf_reader_init(&r, 1000);
        print_message("  %s\n", cases[i].msg);
        assert_true(wsf_next(&r, cases[i].d, cases[i].n, &ev, &code, &err) < 0);
        assert_int_equal(code, cases[i].code);
        assert_non_null(strstr(err.msg, cases[i].msg));
        wsf_reader_free(&r);
    }
    /* a new message inside a fragmented one; fragments past the limit */
    struct wsf_reader r;
    struct wsf_event ev;
    struct cs_error err = {0};
    int code = 0;
    wsf_reader_init(&r, 4);
    const uint8_t f1[] = {0x01, 0x03, 'a', 'b', 'c'}, t[] = {0x81, 0x00},
                  c2[] = {0x80, 0x02, 'd', 'e'};
    assert_int_equal(wsf_next(&r, f1, sizeof(f1), &ev, &code, &err), 5);
    assert_true(wsf_next(&r, t, sizeof(t), &ev, &code, &err) < 0);
    assert_non_null(strstr(err.msg, "inside a fragmented"));
    assert_true(wsf_next(&r, c2, sizeof(c2), &ev, &code, &err) < 0);
    assert_int_equal(code, 1009);
    wsf_reader_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
