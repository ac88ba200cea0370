/* nopair: socketpair(2) refused on this thread between nopair_begin and nopair_end, and only
 * there; the program's definition is the one a shared library's call reaches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mosquitto.h>

#include "nopair.h"

static int try_pair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return errno;
    close(sv[0]);
    close(sv[1]);
    return 0;
}

static void *other_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)try_pair();
}

static void test_scoped(void **state)
{
    (void)state;
    assert_int_equal(try_pair(), 0);
    nopair_begin();
    assert_int_equal(try_pair(), EMFILE);
    pthread_t t; /* another thread is not affected */
    void *rc;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &rc);
    assert_int_equal((intptr_t)rc, 0);
    nopair_end();
    assert_int_equal(try_pair(), 0);
}

static int fcntl_ok(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl_ok(fd))
            n++;
    return n;
}

static void test_mosquitto_client(void **state)
{
    (void)state;
    mosquitto_lib_init();
    int before = count_fds();
    struct mosquitto *with = mosquitto_new("a", true, NULL);
    assert_non_null(with);
    assert_int_equal(count_fds(), before + 2); /* libmosquitto's own pair */
    nopair_begin();
    struct mosquitto *without = mosquitto_new("b", true, NULL);
    nopair_end();
    assert_non_null(without);
    assert_int_equal(count_fds(), before + 2); /* none more */
    mosquitto_destroy(with);
    mosquitto_destroy(without);
    assert_int_equal(count_fds(), before);
    mosquitto_lib_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scoped),
        cmocka_unit_test(test_mosquitto_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
