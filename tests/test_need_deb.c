/* scripts/need-deb, scripts/fetch-debs and the Makefile's one package step,
 * in a scratch folder with stand-ins for apt-get and id on the PATH (the
 * tests install nothing): files present need nothing; missing ones are
 * installed in one apt-get call, and concurrent runs wait their turn; on
 * the offline route the .deb files of the missing packages and of their
 * dependencies (tiny ones the tests build with dpkg-deb) are unpacked into
 * build/prefix with the links their postinst makes with update-alternatives;
 * what cannot be had stops with one line naming the packages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch.h"

/* Writes text to dir/name, executable. */
static void write_script(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0755), 0);
}

static void make_dirs(const char *dir, const char *sub) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", dir, sub);
    assert_int_equal(system(cmd), 0);
}

/* In dir: bin/apt-get logs each call's arguments to apt.log (a line
 * "overlap" when another call is running), takes a while, then creates
 * dir/files/PACKAGE for each package; bin/id says we are root. */
static void stand_ins(const char *dir) {
    char text[1024];
    make_dirs(dir, "bin");
    make_dirs(dir, "files");
    write_script(dir, "bin/id", "#!/bin/sh\necho 0\n");
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "d='%s'\n"
             "[ -e \"$d/busy\" ] && echo overlap >> \"$d/apt.log\"\n"
             "touch \"$d/busy\"; echo \"$*\" >> \"$d/apt.log\"; sleep 0.5\n"
             "for p in \"$@\"; do case $p in -*|install) ;; *) touch \"$d/files/$p\";; esac; done\n"
             "rm \"$d/busy\"\n",
             dir);
    write_script(dir, "bin/apt-get", text);
}

typedef struct {
    int status;
    char *err;
} run_result;

/* [env] need-deb ARGS, run in dir with the stand-ins first on the PATH,
 * without the caller's ZZ_DEBS_ONLY (make test may run with it). */
static run_result need_deb(const char *dir, const char *env, const char *args) {
    char cmd[4096], cwd[1024], err_path[256];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "cd '%s' && unset ZZ_DEBS_ONLY && PATH='%s/bin':\"$PATH\" %s '%s/scripts/need-deb' %s 2>'%s'",
             dir, dir, env, cwd, args, err_path);
    int status = system(cmd);
    run_result r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err_path, NULL)};
    assert_non_null(r.err);
    return r;
}

static char *apt_log(const char *dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/apt.log", dir);
    char *log = read_file(path, NULL);
    return log ? log : strdup("");
}

static int exists(const char *dir, const char *path) {
    char full[512];
    struct stat st;
    snprintf(full, sizeof full, "%s/%s", dir, path);
    return lstat(full, &st) == 0;
}

/* dir/.debs/NAME_1_all.deb: package NAME with the files (paths below /,
 * space-separated, each a small script), the Depends and the postinst
 * ("" for none). */
static void make_deb(const char *dir, const char *name, const char *files, const char *depends, const char *postinst) {
    char root[256], path[512], text[1024], cmd[1024];
    snprintf(root, sizeof root, "pkg-%s", name);
    char list[512];
    snprintf(list, sizeof list, "%s", files);
    for (char *file = strtok(list, " "); file; file = strtok(NULL, " ")) {
        snprintf(path, sizeof path, "%s%s", root, file);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        make_dirs(dir, path);
        *slash = '/';
        write_script(dir, path, "#!/bin/sh\necho stand-in\n");
    }
    snprintf(path, sizeof path, "%s/DEBIAN", root);
    make_dirs(dir, path);
    snprintf(text, sizeof text, "Package: %s\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\n"
             "Description: a stand-in\n%s%s%s", name, *depends ? "Depends: " : "", depends, *depends ? "\n" : "");
    snprintf(path, sizeof path, "%s/DEBIAN/control", root);
    write_script(dir, path, text);
    if (*postinst) {
        snprintf(path, sizeof path, "%s/DEBIAN/postinst", root);
        write_script(dir, path, postinst);
    }
    make_dirs(dir, ".debs");
    snprintf(cmd, sizeof cmd, "cd '%s' && chmod 644 %s/DEBIAN/control && dpkg-deb --build --root-owner-group %s "
             ".debs/%s_1_all.deb >/dev/null", dir, root, root, name);
    assert_int_equal(system(cmd), 0);
}

/* ---- tests ---- */

static void without_arguments_it_says_how(void **state) {
    run_result r = need_deb(*state, "", "");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "usage: need-deb FILE=PACKAGE...\n");
    free(r.err);
}

static void present_files_need_nothing(void **state) {
    char args[512];
    stand_ins(*state);
    snprintf(args, sizeof args, "/bin/sh=dash '%s/bin/id'=coreutils", (const char *)*state);
    run_result r = need_deb(*state, "", args);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    char *log = apt_log(*state);
    assert_string_equal(log, "");
    free(log);
    free(r.err);
}

/* Two missing packages, one present: one apt-get call for both. */
static void missing_packages_are_installed_in_one_call(void **state) {
    const char *dir = *state;
    char args[512];
    stand_ins(dir);
    snprintf(args, sizeof args, "'%s/files/zz-a'=zz-a /bin/sh=dash '%s/files/zz-b'=zz-b", dir, dir);
    run_result r = need_deb(dir, "", args);
    assert_int_equal(r.status, 0);
    char *log = apt_log(dir);
    assert_string_equal(log, "install -y -q zz-a zz-b\n");
    expect_in(r.err, "need-deb: installing zz-a zz-b\n");
    free(log);
    free(r.err);
}

/* Three runs at once: the first installs, the others wait for it and find
 * the file there; apt-get never runs twice at the same time. */
static void concurrent_runs_wait_their_turn(void **state) {
    const char *dir = *state;
    char cmd[4096], cwd[1024];
    stand_ins(dir);
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(cmd, sizeof cmd,
             "cd '%s' && unset ZZ_DEBS_ONLY && export PATH='%s/bin':\"$PATH\"; for i in 1 2 3; do '%s/scripts/need-deb' "
             "'%s/files/zz-a'=zz-a 2>/dev/null & done; wait",
             dir, dir, cwd, dir);
    assert_int_equal(system(cmd), 0);
    char *log = apt_log(dir);
    assert_string_equal(log, "install -y -q zz-a\n");
    free(log);
}

/* The offline route: zz-tool-nox (its postinst links /usr/bin/zz-tool to
 * it, as gnuplot-nox's does gnuplot) depends on zz-lib, whose library
 * lands in /lib; zz-other is not asked for and stays packed. */
static void the_offline_route_unpacks_the_closure_and_the_alternatives(void **state) {
    const char *dir = *state;
    make_deb(dir, "zz-tool-nox", "/usr/bin/zz-tool-nox /usr/share/man/man1/zz-tool-nox.1",
             "zz-lib (>= 1), libc6 (>= 2.34) | libc6-udeb",
             "#!/bin/sh\nset -e\nupdate-alternatives --install /usr/bin/zz-tool zz-tool /usr/bin/zz-tool-nox 80 \\\n"
             "  --slave /usr/share/man/man1/zz-tool.1 zz-tool.1 /usr/share/man/man1/zz-tool-nox.1\n");
    make_deb(dir, "zz-lib", "/lib/x86_64-linux-gnu/libzz.so.1", "", "");
    make_deb(dir, "zz-other", "/usr/bin/zz-other", "", "");
    run_result r = need_deb(dir, "ZZ_DEBS_ONLY=1", "/usr/bin/zz-tool=zz-tool-nox");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "need-deb: unpacking zz-tool-nox and their dependencies from .debs/ into build/prefix\n");
    free(r.err);
    char target[256], path[512];
    snprintf(path, sizeof path, "%s/build/prefix/usr/bin/zz-tool", dir);
    ssize_t n = readlink(path, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "zz-tool-nox");  /* relative: the prefix may move */
    snprintf(path, sizeof path, "%s/build/prefix/usr/share/man/man1/zz-tool.1", dir);
    assert_true(readlink(path, target, sizeof target - 1) > 0);
    assert_true(exists(dir, "build/prefix/lib/x86_64-linux-gnu/libzz.so.1"));
    assert_false(exists(dir, "build/prefix/usr/bin/zz-other"));
    /* Once unpacked, nothing more to do; a package .debs/ lacks is named. */
    r = need_deb(dir, "ZZ_DEBS_ONLY=1", "/usr/bin/zz-tool=zz-tool-nox");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    free(r.err);
    r = need_deb(dir, "ZZ_DEBS_ONLY=1", "/usr/bin/zz-tool=zz-tool-nox /usr/bin/zz-none=zz-none");
    assert_int_equal(r.status, 1);
    assert_string_equal(r.err, "need-deb: unpacking zz-none and their dependencies from .debs/ into build/prefix\n"
                               "need-deb: .debs/ lacks zz-none (scripts/fetch-debs fills it)\n"
                               "error: missing Debian packages: zz-none; install them with: sudo apt-get install -y "
                               "zz-none (or, without a package registry, put their .deb files in .debs/: "
                               "scripts/fetch-debs)\n");
    free(r.err);
}

/* Not on the system (ZZ_DEBS_ONLY hides /bin/sh), not in .debs/, no apt-get. */
static void what_cannot_be_had_stops_with_one_line(void **state) {
    const char *dir = *state;
    run_result r = need_deb(dir, "ZZ_DEBS_ONLY=1", "/bin/sh=dash /usr/bin/zz-none=zz-none");
    assert_int_equal(r.status, 1);
    assert_string_equal(r.err, "error: missing Debian packages: dash zz-none; install them with: sudo apt-get install "
                               "-y dash zz-none (or, without a package registry, put their .deb files in .debs/: "
                               "scripts/fetch-debs)\n");
    free(r.err);
}

static void fetch_debs_lists_its_sets(void **state) {
    char out[256], cmd[512];
    snprintf(out, sizeof out, "%s/out", (const char *)*state);
    snprintf(cmd, sizeof cmd, "scripts/fetch-debs --list gpu > '%s'", out);
    assert_int_equal(system(cmd), 0);
    char *gpu = read_file(out, NULL);
    assert_string_equal(gpu, "libcmocka0\nlibcmocka-dev\nlibbenchmark1debian\nlibbenchmark-dev\n");
    snprintf(cmd, sizeof cmd, "scripts/fetch-debs --list all > '%s'", out);
    assert_int_equal(system(cmd), 0);
    char *all = read_file(out, NULL);
    assert_int_equal(strncmp(all, gpu, strlen(gpu)), 0);
    expect_in(all, "\ngnuplot-nox\n");
    expect_in(all, "\nfonts-dejavu-core\n");
    free(gpu);
    free(all);
    snprintf(cmd, sizeof cmd, "scripts/fetch-debs some 2> '%s'", out);
    int status = system(cmd);
    assert_int_equal(WEXITSTATUS(status), 2);
    char *err = read_file(out, NULL);
    assert_string_equal(err, "usage: fetch-debs [--list] gpu|all\n");
    free(err);
}

/* make runs need-deb once, before everything else, with every package the
 * goals need: `test` also needs gnuplot, a build does not. */
static void make_asks_for_every_package_in_one_step(void **state) {
    static const struct {
        const char *goal, *want;
    } cases[] = {
        {"test", "scripts/need-deb /usr/include/cmocka.h=libcmocka-dev "
                 "/usr/include/benchmark/benchmark.h=libbenchmark-dev /usr/bin/gnuplot=gnuplot-nox\n"},
        {"all", "scripts/need-deb /usr/include/cmocka.h=libcmocka-dev "
                "/usr/include/benchmark/benchmark.h=libbenchmark-dev\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256], cmd[512];
        snprintf(out, sizeof out, "%s/make-n", (const char *)*state);
        /* Not the settings of the make that runs this test. */
        snprintf(cmd, sizeof cmd, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -j4 --no-print-directory %s 2>/dev/null"
                 " | grep need-deb > '%s'",
                 cases[i].goal, out);
        assert_int_equal(system(cmd), 0);
        char *lines = read_file(out, NULL);
        assert_string_equal(lines, cases[i].want);
        free(lines);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(without_arguments_it_says_how, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(present_files_need_nothing, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(missing_packages_are_installed_in_one_call, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(concurrent_runs_wait_their_turn, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(the_offline_route_unpacks_the_closure_and_the_alternatives, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(what_cannot_be_had_stops_with_one_line, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(fetch_debs_lists_its_sets, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(make_asks_for_every_package_in_one_step, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
